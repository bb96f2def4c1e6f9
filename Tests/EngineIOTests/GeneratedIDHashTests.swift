import XCTest

@testable import EngineIO

/// `GeneratedIDHash`, the table hash of generated session and socket ids: equal bytes hash alike, and a
/// change of any one byte, of the length or of the table's seed changes the hash.
final class GeneratedIDHashTests: XCTestCase {
    private func hash(_ bytes: [UInt8], seed: Int = 0x5EED) -> Int {
        bytes.withUnsafeBytes { GeneratedIDHash.hash($0, seed: seed) }
    }

    func testEqualBytesHashAlikeAndEveryByteCounts() {
        let id = Array("aZ3-_09xQwErTyUiOpLk".utf8)
        XCTAssertEqual(id.count, EngineSessionID.length)
        XCTAssertEqual(self.hash(id), self.hash(Array(id)))
        for position in id.indices {
            var changed = id
            changed[position] ^= 0x01
            XCTAssertNotEqual(self.hash(changed), self.hash(id), "byte \(position) did not count")
        }
    }

    func testEveryLengthOfOnePrefixHashesApart() {
        let bytes = [UInt8](repeating: UInt8(ascii: "A"), count: 24)
        let hashes = (0...bytes.count).map { self.hash(Array(bytes[0..<$0])) }
        XCTAssertEqual(Set(hashes).count, hashes.count)
    }

    func testTheSeedChangesTheHash() {
        let id = Array("aZ3-_09xQwErTyUiOpLk".utf8)
        XCTAssertNotEqual(self.hash(id, seed: 1), self.hash(id, seed: 2))
    }

    /// The low bits pick a table's bucket: ids that differ in one character still spread over them.
    func testIDsDifferingInTheirLastCharacterSpreadOverBuckets() {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        let prefix = Array("aZ3-_09xQwErTyUiOpL".utf8)
        let buckets = Set(alphabet.map { self.hash(prefix + [$0]) & 63 })
        XCTAssertGreaterThan(buckets.count, 32)
    }
}
