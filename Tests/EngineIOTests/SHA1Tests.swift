import XCTest

@testable import EngineIO
@testable import HTTPKit

final class SHA1Tests: XCTestCase {
    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    // FIPS 180-2 appendix A / NIST example vectors.

    func testHashOfABCMatchesFIPSVector() {
        XCTAssertEqual(hex(SHA1.hash("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d")
    }

    func testHashOfEmptyInputMatchesKnownDigest() {
        XCTAssertEqual(hex(SHA1.hash([UInt8]())), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
    }

    func testHashOf448BitMessageMatchesFIPSVector() {
        XCTAssertEqual(
            hex(SHA1.hash("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
    }

    func testHashOfMillionAMatchesFIPSVector() {
        var hasher = SHA1()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 {
            hasher.update(chunk)
        }
        XCTAssertEqual(hex(hasher.finalize()), "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    /// The allocation-free one-shot hash pads on the stack: every length around the block and padding
    /// boundaries must give the streaming hasher's digest, and the FIPS vectors must hold.
    func testOneShotRawHashMatchesTheStreamingHasherAtEveryLength() {
        let message = (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 3) }
        for length in 0...message.count {
            var hasher = SHA1()
            hasher.update(message[0..<length])
            let expected = hasher.finalize()
            let oneShot = message.withUnsafeBytes { SHA1.hash(UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
            XCTAssertEqual(oneShot, expected, "length \(length)")
        }
        let abc = Array("abc".utf8).withUnsafeBytes { SHA1.hash($0) }
        XCTAssertEqual(hex(abc), "a9993e364706816aba3e25717850c26c9cd0d89d")
        let a56 = [UInt8](repeating: UInt8(ascii: "a"), count: 56).withUnsafeBytes { SHA1.hash($0) }
        XCTAssertEqual(hex(a56), "c2db330f6083854c99d4b5bfb6e8f29f201be699")
    }

    func testIncrementalUpdatesInOddChunksMatchOneShotHash() {
        let message = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let expected = SHA1.hash(message)
        for chunkSize in [1, 3, 55, 56, 63, 64, 65, 127, 999] {
            var hasher = SHA1()
            var index = 0
            while index < message.count {
                let end = min(index + chunkSize, message.count)
                hasher.update(message[index..<end])
                index = end
            }
            XCTAssertEqual(hasher.finalize(), expected, "chunk size \(chunkSize)")
        }
    }

    func testMessagesAroundPaddingBoundariesHashLikeSingleBlockReference() {
        // 55 bytes fit the length in the same block; 56 need a second padding block.
        XCTAssertEqual(
            hex(SHA1.hash([UInt8](repeating: UInt8(ascii: "a"), count: 55))),
            "c1c8bbdc22796e28c0e15163d20899b65621d65a")
        XCTAssertEqual(
            hex(SHA1.hash([UInt8](repeating: UInt8(ascii: "a"), count: 56))),
            "c2db330f6083854c99d4b5bfb6e8f29f201be699")
        XCTAssertEqual(
            hex(SHA1.hash([UInt8](repeating: UInt8(ascii: "a"), count: 64))),
            "0098ba824b5c16427bd7a1122a5a442a25ec644d")
    }
}
