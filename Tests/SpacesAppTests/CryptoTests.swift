import XCTest
@testable import SpacesApp

final class CryptoTests: XCTestCase {
    private func hex(_ bytes: [UInt8]) -> String { Hex.encode(bytes) }

    func testSHA256KnownAnswers() {
        // FIPS 180-4 examples.
        XCTAssertEqual(hex(SHA256.hash(Array("".utf8))), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(hex(SHA256.hash(Array("abc".utf8))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func testSHA256StreamingMatchesOneShot() {
        var hasher = SHA256()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { hasher.update(chunk) }
        XCTAssertEqual(hex(hasher.finalize()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        var split = SHA256()
        let message = Array("The quick brown fox jumps over the lazy dog, then again and again and again.".utf8)
        split.update(Array(message[0..<7]))
        split.update(Array(message[7...]))
        XCTAssertEqual(split.finalize(), SHA256.hash(message))
    }

    func testHMACSHA256RFC4231() {
        let cases: [([UInt8], [UInt8], String)] = [
            ([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            ([UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
             "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
            (Array(1...25), [UInt8](repeating: 0xcd, count: 50),
             "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
            ([UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            ([UInt8](repeating: 0xaa, count: 131),
             Array("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".utf8),
             "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
        ]
        for (key, data, expected) in cases {
            XCTAssertEqual(hex(HMACSHA256.authenticate(data, key: key)), expected)
        }
    }

    func testPBKDF2SHA256RFC7914() {
        XCTAssertEqual(
            hex(PBKDF2.sha256(password: Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1, length: 64)),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
        XCTAssertEqual(
            hex(PBKDF2.sha256(password: Array("Password".utf8), salt: Array("NaCl".utf8), iterations: 80_000, length: 64)),
            "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d")
    }

    func testPasswordHashRoundTripAndFormat() {
        let hasher = PasswordHasher(iterations: 1000)
        let stored = hasher.hash("correct horse")
        XCTAssertTrue(stored.hasPrefix("pbkdf2_sha256$1000$"))
        XCTAssertTrue(hasher.verify("correct horse", against: stored))
        XCTAssertFalse(hasher.verify("wrong horse", against: stored))
        XCTAssertNotEqual(stored, hasher.hash("correct horse"), "salts differ")
        // The stored count wins over the hasher's.
        XCTAssertTrue(PasswordHasher(iterations: 5).verify("correct horse", against: stored))
        XCTAssertFalse(hasher.verify("x", against: "garbage"))
        XCTAssertFalse(hasher.verify("x", against: "pbkdf2_sha256$0$AA$AA"))
    }

    func testSessionCookieSignsAndExpires() {
        let cookie = SessionCookie(secret: Array(repeating: 7, count: 32))
        let value = cookie.issue(userID: 42, now: 1000)
        XCTAssertEqual(cookie.verify(value, now: 2000), 42)
        XCTAssertNil(cookie.verify(value, now: 1000 + Double(SessionCookie.lifetimeSeconds) + 1))
        XCTAssertNil(SessionCookie(secret: Array(repeating: 8, count: 32)).verify(value, now: 2000))
        let forged = value.replacingOccurrences(of: "v1.42.", with: "v1.1.")
        XCTAssertNil(cookie.verify(forged, now: 2000))
        XCTAssertNil(cookie.verify("nonsense", now: 2000))
        let header = cookie.setCookie(userID: 1, now: 0).headerValue
        XCTAssertTrue(header.contains("HttpOnly") && header.contains("SameSite=Lax"))
    }

    func testRandomBytesAndUUIDs() {
        XCTAssertEqual(SecureRandom.bytes(0), [])
        let first = SecureRandom.bytes(300), second = SecureRandom.bytes(300)
        XCTAssertEqual(first.count, 300)
        XCTAssertNotEqual(first, second)
        XCTAssertGreaterThan(Set(first).count, 100, "300 random bytes take far more than 100 of the 256 values")
        for _ in 0..<100 {
            let id = SecureRandom.uuid()
            XCTAssertEqual(UUID(uuidString: id)?.uuidString.lowercased(), id)
            XCTAssertEqual(Array(id)[14], "4", "version 4")
            XCTAssertTrue("89ab".contains(Array(id)[19]), "RFC 4122 variant")
        }
    }

    func testConstantTimeEquals() {
        XCTAssertTrue(constantTimeEquals("abc", "abc"))
        XCTAssertFalse(constantTimeEquals("abc", "abd"))
        XCTAssertFalse(constantTimeEquals("abc", "abcd"))
    }
}
