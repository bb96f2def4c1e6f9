import XCTest

import EngineIO
import HTTPKit
import Transport

/// Long-polling bodies: records joined by 0x1E, binary as `b` + base64, strict rejection of any bad record.
final class EnginePayloadCodecTests: XCTestCase {
    private func body(_ string: String) -> [UInt8] { Array(string.utf8) }

    private func assertDecodeError(
        _ bytes: [UInt8],
        _ expected: EngineProtocolError,
        file: StaticString = #filePath,
        line: UInt = #line
    ) {
        do {
            let packets = try EnginePayloadCodec.decode(bytes)
            XCTFail("decoded \(packets) from \(bytes)", file: file, line: line)
        } catch {
            XCTAssertEqual(error, expected, file: file, line: line)
        }
    }

    // MARK: Decoding

    func testSinglePacketBodyDecodes() throws {
        XCTAssertEqual(try EnginePayloadCodec.decode(body("4hello")), [.message("hello")])
    }

    func testRecordsSplitOnSeparatorInOrder() throws {
        let packets = try EnginePayloadCodec.decode(body("4hello\u{1E}bAQID\u{1E}2\u{1E}4€😀\u{1E}4"))
        XCTAssertEqual(packets, [.message("hello"), .binary([1, 2, 3]), .ping(), .message("€😀"), .message("")])
    }

    func testBase64WithoutPaddingIsAccepted() throws {
        XCTAssertEqual(try EnginePayloadCodec.decode(body("bAQ")), [.binary([1])])
        XCTAssertEqual(try EnginePayloadCodec.decode(body("bAQI")), [.binary([1, 2])])
    }

    func testBareBinaryMarkerDecodesAsEmptyBinaryMessage() throws {
        XCTAssertEqual(try EnginePayloadCodec.decode(body("b\u{1E}4x")), [.binary([]), .message("x")])
    }

    func testByteBufferAndSliceInputsDecodeLikeArrays() throws {
        var buffer = ByteBuffer(string: "junk4a\u{1E}4b")
        buffer.moveReaderIndex(forwardBy: 4)
        XCTAssertEqual(try EnginePayloadCodec.decode(buffer), [.message("a"), .message("b")])
        XCTAssertEqual(buffer.readableBytes, 5, "decoding must not consume the buffer")

        let bytes = body("xx4a\u{1E}4b")
        XCTAssertEqual(try EnginePayloadCodec.decode(bytes[2...]), [.message("a"), .message("b")])
    }

    // MARK: Malformed input

    func testEmptyBodyThrowsEmptyPayload() {
        assertDecodeError([], .emptyPayload)
    }

    func testTrailingSeparatorThrowsEmptyPacket() {
        assertDecodeError(body("4a\u{1E}"), .emptyPacket)
    }

    func testLeadingSeparatorThrowsEmptyPacket() {
        assertDecodeError(body("\u{1E}4a"), .emptyPacket)
    }

    func testConsecutiveSeparatorsThrowEmptyPacket() {
        assertDecodeError(body("4a\u{1E}\u{1E}4b"), .emptyPacket)
    }

    func testLoneSeparatorThrowsEmptyPacket() {
        assertDecodeError([0x1E], .emptyPacket)
    }

    func testUnknownPacketTypeAnywhereRejectsWholeBody() {
        assertDecodeError(body("4a\u{1E}4b\u{1E}7c"), .unknownPacketType(UInt8(ascii: "7")))
        assertDecodeError(body("x\u{1E}4b"), .unknownPacketType(UInt8(ascii: "x")))
    }

    func testInvalidBase64CharacterThrows() {
        assertDecodeError(body("4a\u{1E}bAQ*D"), .invalidBase64(.invalidCharacter(offset: 2)))
    }

    func testURLSafeBase64IsRejected() {
        assertDecodeError(body("b-_8"), .invalidBase64(.invalidCharacter(offset: 0)))
    }

    func testDanglingBase64CharacterThrows() {
        assertDecodeError(body("bAQIDB"), .invalidBase64(.invalidLength))
    }

    func testMisplacedBase64PaddingThrows() {
        assertDecodeError(body("bAQ="), .invalidBase64(.invalidPadding))
        assertDecodeError(body("bAQ==AQ=="), .invalidBase64(.invalidCharacter(offset: 2)))
    }

    func testInvalidUTF8Throws() {
        assertDecodeError([UInt8(ascii: "4"), 0xFF], .invalidUTF8)
        assertDecodeError([UInt8(ascii: "4"), 0xC0, 0x80], .invalidUTF8)  // overlong NUL
        assertDecodeError([UInt8(ascii: "4"), 0xED, 0xA0, 0x80], .invalidUTF8)  // UTF-16 surrogate
        assertDecodeError([UInt8(ascii: "4"), 0xE2, 0x82], .invalidUTF8)  // truncated sequence
        assertDecodeError([UInt8(ascii: "4"), 0xF4, 0x90, 0x80, 0x80], .invalidUTF8)  // above U+10FFFF
    }

    // MARK: UTF-8 validation

    func testUTF8ValidationAgreesWithStandardLibrary() {
        // Random short sequences biased toward bytes that start or continue multi-byte forms, plus ASCII
        // runs long enough to take the eight-byte fast path.
        var generator = SplitMix64(seed: 0x5EED)
        let interesting: [UInt8] = [0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xA0, 0xED, 0x9F, 0xEF,
                                    0xF0, 0x90, 0xF4, 0x8F, 0xF5, 0xFF]
        for _ in 0..<20_000 {
            let length = Int(generator.next() % 14)
            var bytes = (0..<length).map { _ in interesting[Int(generator.next() % UInt64(interesting.count))] }
            if generator.next() % 4 == 0 { bytes.insert(contentsOf: Array("abcdefghij".utf8), at: 0) }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            XCTAssertEqual(UTF8Validator.isValid(bytes), expected, "\(bytes)")
        }
    }

    // MARK: Encoding

    func testEncodeJoinsRecordsAndBase64EncodesBinary() {
        let packets: [EnginePacket] = [.message("hello"), .binary([1, 2, 3]), .ping(), .binary([])]
        XCTAssertEqual(EnginePayloadCodec.encode(packets), body("4hello\u{1E}bAQID\u{1E}2\u{1E}b"))
    }

    func testEncodeEmptyListIsEmptyBody() {
        XCTAssertEqual(EnginePayloadCodec.encode([]), [])
        XCTAssertEqual(EnginePayloadCodec.encodedLength(of: []), 0)
    }

    func testByteBufferEncodingMatchesArrayEncodingAcrossBase64Chunks() {
        // 10_000 bytes spans several scratch chunks and ends on a padded group.
        let large = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let packets: [EnginePacket] = [.message("a"), .binary(large), .binary([9]), .message("€")]
        let expected = EnginePayloadCodec.encode(packets)
        XCTAssertEqual(expected.count, EnginePayloadCodec.encodedLength(of: packets))
        var buffer = ByteBuffer(string: "prefix")
        EnginePayloadCodec.encode(packets, into: &buffer)
        XCTAssertEqual(buffer.readableArray, body("prefix") + expected)
    }

    func testEncodedBodiesDecodeBack() throws {
        var generator = SplitMix64(seed: 42)
        for _ in 0..<200 {
            let count = 1 + Int(generator.next() % 6)
            let packets: [EnginePacket] = (0..<count).map { _ in
                let size = Int(generator.next() % 40)
                let bytes = (0..<size).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                if generator.next() % 2 == 0 { return .binary(bytes) }
                let type = EnginePacketType.allCases[Int(generator.next() % 7)]
                return EnginePacket(type: type, text: String(repeating: "é", count: size))
            }
            XCTAssertEqual(try EnginePayloadCodec.decode(EnginePayloadCodec.encode(packets)), packets)
        }
    }
}

/// A small seeded generator so randomised tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { self.state = seed }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
