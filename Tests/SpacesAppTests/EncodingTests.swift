import Foundation
import XCTest
@testable import SpacesApp

/// The hand-written encoders of the hot paths against their definitions: base64url (RFC 4648 §5, compared with
/// Foundation's base64 for every length and byte), ISO 8601 timestamps (compared with strftime), and the session
/// key file that nodes of a cluster share.
final class EncodingTests: XCTestCase {
    func testBase64URLMatchesFoundationForEveryLength() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let expected = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            XCTAssertEqual(Base64URL.encode(bytes), expected, "length \(length)")
            XCTAssertEqual(Base64URL.decode(expected), bytes, "length \(length)")
        }
        XCTAssertEqual(Base64URL.encode(Array(0...255)).count, 342)
        XCTAssertEqual(Base64URL.decode(Base64URL.encode(Array(0...255))), Array(0...255))
    }

    func testBase64URLRefusesWhatIsNotBase64URL() {
        XCTAssertNil(Base64URL.decode("ab+c"))   // standard alphabet, not url
        XCTAssertNil(Base64URL.decode("ab/c"))
        XCTAssertNil(Base64URL.decode("abcde"))  // one character past a group cannot be
        XCTAssertNil(Base64URL.decode("a b"))
        XCTAssertNil(Base64URL.decode("é"))
        XCTAssertEqual(Base64URL.decode("aGk="), Array("hi".utf8))  // padding is accepted
        XCTAssertEqual(Base64URL.decode(""), [])
    }

    func testISOTimeMatchesStrftime() {
        // Dates are computed, not asked of gmtime_r: leap days, century years, before 1970, and a day every
        // 37 days and 7,211 seconds for 400 years.
        var samples = [0.0, 0.999, 951_782_400.5, 1_700_000_000.123, 1_796_608_000.007, 4_102_444_799.9994,
                       -1.5, -86_400, -2_208_988_800, 951_868_799, 4_107_542_400, 253_402_300_799]
        samples += stride(from: -2_208_988_800.0, to: 10_413_792_000, by: 37 * 86_400 + 7211.25)
        for seconds in samples {
            var time = time_t(seconds.rounded(.down))
            var parts = tm()
            gmtime_r(&time, &parts)
            var buffer = [CChar](repeating: 0, count: 32)
            let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S", &parts)
            let prefix = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let millis = Int((seconds - seconds.rounded(.down)) * 1000)
            let expected = prefix + "." + String(repeating: "0", count: 3 - String(millis).count) + String(millis) + "Z"
            XCTAssertEqual(ISOTime.format(seconds), expected)
        }
        XCTAssertEqual(ISOTime.format(1_700_000_000.25), "2023-11-14T22:13:20.250Z")
    }

    func testSessionKeyFileIsSharedAndCreatedOnce() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("session-key-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/session.key"
        // Eight "nodes" creating the missing file at once all end up with one key.
        let keys = KeyList()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let key = try? SessionCookie.loadOrCreateSecret(file: path)
            keys.append(key ?? [])
        }
        XCTAssertEqual(Set(keys.values).count, 1)
        XCTAssertEqual(keys.values.first?.count, 32)
        XCTAssertEqual(try SessionCookie.loadOrCreateSecret(file: path), keys.values.first)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["session.key"])
        // A cookie issued with the key verifies with the same file read elsewhere.
        let issued = SessionCookie(secret: try SessionCookie.loadOrCreateSecret(file: path)).issue(userID: 7, now: 1_000)
        XCTAssertEqual(SessionCookie(secret: try SessionCookie.loadOrCreateSecret(file: path)).verify(issued, now: 1_001), 7)
        XCTAssertNil(SessionCookie(secret: Array(repeating: 1, count: 32)).verify(issued, now: 1_001))
        // A damaged file is replaced by a new key.
        try Data("not a key".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try SessionCookie.loadOrCreateSecret(file: path).count, 32)
    }
}

/// Keys collected from concurrent closures in a test, behind a lock.
private final class KeyList: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [[UInt8]] = []

    var values: [[UInt8]] { self.lock.withLock { self.stored } }

    func append(_ key: [UInt8]) { self.lock.withLock { self.stored.append(key) } }
}
