import XCTest

import EngineIO
import Foundation
import Synchronization
import Transport

/// Session ids: 20 URL-safe characters from 15 random bytes, like Node's `base64id`.
final class EngineSessionIDTests: XCTestCase {
    func testGeneratedIdIsTwentyURLSafeCharacters() {
        for _ in 0..<200 {
            let id = EngineSessionID.generate()
            XCTAssertEqual(id.utf8.count, EngineSessionID.length, id)
            XCTAssertTrue(EngineSessionID.isWellFormed(id), id)
            XCTAssertFalse(id.contains("+") || id.contains("/") || id.contains("="), id)
        }
    }

    func testGeneratedIdsAreDistinct() {
        let ids = Set((0..<10_000).map { _ in EngineSessionID.generate() })
        XCTAssertEqual(ids.count, 10_000)
    }

    /// Ids come from per-thread pools of getrandom bytes: threads drawing at once, through many refills,
    /// still never see the same id.
    func testPooledIdsAreDistinctAcrossThreadsAndRefills() {
        let perThread = 2_000
        let all = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let ids = (0..<perThread).map { _ in EngineSessionID.generate() }
            all.withLock { $0.append(contentsOf: ids) }
        }
        XCTAssertEqual(Set(all.withLock { $0 }).count, 4 * perThread)
    }

    func testSeededGeneratorGivesReproducibleIds() {
        var first = SplitMix64(seed: 99)
        var second = SplitMix64(seed: 99)
        XCTAssertEqual(EngineSessionID.generate(using: &first), EngineSessionID.generate(using: &second))
    }

    /// The id is base64url of the generator's first 15 bytes (low byte first), as the standard encoder gives it.
    func testIdIsBase64URLOfTheGeneratorsBytes() {
        for seed in [UInt64(1), 7, 99, 12345, .max] {
            var generator = SplitMix64(seed: seed)
            var again = SplitMix64(seed: seed)
            let words = [again.next(), again.next()]
            let bytes = (0..<15).map { UInt8(truncatingIfNeeded: words[$0 / 8] >> (UInt64($0 % 8) * 8)) }
            let expected = String(decoding: Base64.encode(bytes), as: UTF8.self)
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            XCTAssertEqual(EngineSessionID.generate(using: &generator), expected)
        }
    }

    func testAllOnesMapsToURLSafeCharacters() {
        // 0xFF bytes encode to `/` in standard base64, so this pins the `/` → `_` substitution.
        var generator = ConstantGenerator(value: .max)
        XCTAssertEqual(EngineSessionID.generate(using: &generator), String(repeating: "_", count: 20))
        var zeros = ConstantGenerator(value: 0)
        XCTAssertEqual(EngineSessionID.generate(using: &zeros), String(repeating: "A", count: 20))
    }

    func testWellFormedRejectsOtherShapes() {
        XCTAssertFalse(EngineSessionID.isWellFormed(""))
        XCTAssertFalse(EngineSessionID.isWellFormed("abc"))
        XCTAssertFalse(EngineSessionID.isWellFormed(String(repeating: "a", count: 21)))
        XCTAssertFalse(EngineSessionID.isWellFormed(String(repeating: "a", count: 19) + "+"))
        XCTAssertTrue(EngineSessionID.isWellFormed("lv_VI97HAXpY6yYWAAAC"))
    }
}

private struct ConstantGenerator: RandomNumberGenerator {
    var value: UInt64
    mutating func next() -> UInt64 { self.value }
}
