import XCTest

import EngineIO

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

    func testSeededGeneratorGivesReproducibleIds() {
        var first = SplitMix64(seed: 99)
        var second = SplitMix64(seed: 99)
        XCTAssertEqual(EngineSessionID.generate(using: &first), EngineSessionID.generate(using: &second))
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
