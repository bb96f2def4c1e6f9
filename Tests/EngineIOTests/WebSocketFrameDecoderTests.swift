import XCTest

@testable import EngineIO
@testable import HTTPKit
@testable import Transport

/// Frame builders shared by the WebSocket codec tests.
enum WebSocketTestFrames {
    /// The masking key of the RFC 6455 §5.7 examples.
    static let rfcKey = WebSocketMaskingKey(0x37, 0xFA, 0x21, 0x3D)

    /// A frame as a client sends it (masked with `key`).
    static func client(
        _ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true, rsv1: Bool = false,
        key: WebSocketMaskingKey = rfcKey
    ) -> [UInt8] {
        var bytes: [UInt8] = []
        WebSocketFrameEncoder.encode(
            opcode: opcode, payload: payload, fin: fin, rsv1: rsv1, maskingKey: key, into: &bytes)
        return bytes
    }

    /// A frame as a server sends it (unmasked).
    static func server(_ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true, rsv1: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = []
        WebSocketFrameEncoder.encode(opcode: opcode, payload: payload, fin: fin, rsv1: rsv1, into: &bytes)
        return bytes
    }

    /// A deterministic pseudo-random payload.
    static func payload(_ count: Int, seed: UInt32 = 1) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 1_103_515_245 &+ 12345
            return UInt8(truncatingIfNeeded: state >> 16)
        }
    }
}

final class WebSocketFrameDecoderTests: XCTestCase {
    private func decodeAll(
        _ bytes: [UInt8], role: WebSocketRole, max: Int = 1 << 20, compression: Bool = false
    ) throws -> [WebSocketFrame] {
        var decoder = WebSocketFrameDecoder(role: role, maxPayloadLength: max, allowsCompression: compression)
        var buffer = ByteBuffer(bytes: bytes)
        var frames: [WebSocketFrame] = []
        while let frame = try decoder.next(from: &buffer) {
            frames.append(frame)
        }
        XCTAssertEqual(buffer.readableBytes, 0, "trailing bytes left undecoded")
        return frames
    }

    private func assertError(
        _ bytes: [UInt8], role: WebSocketRole = .server, max: Int = 1 << 20, compression: Bool = false,
        _ expected: WebSocketProtocolError, code: UInt16 = 1002, file: StaticString = #filePath, line: UInt = #line
    ) {
        var decoder = WebSocketFrameDecoder(role: role, maxPayloadLength: max, allowsCompression: compression)
        var buffer = ByteBuffer(bytes: bytes)
        XCTAssertThrowsError(try decoder.next(from: &buffer), file: file, line: line) { error in
            XCTAssertEqual(error as? WebSocketProtocolError, expected, file: file, line: line)
            XCTAssertEqual((error as? WebSocketProtocolError)?.closeCode, code, file: file, line: line)
        }
        XCTAssertEqual(buffer.readableBytes, bytes.count, "a failing frame must not be consumed", file: file, line: line)
    }

    // MARK: RFC 6455 §5.7 examples

    func testRFCUnmaskedHelloDecodesForClient() throws {
        let frames = try decodeAll([0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F], role: .client)
        XCTAssertEqual(frames, [WebSocketFrame(opcode: .text, payload: Array("Hello".utf8))])
    }

    func testRFCMaskedHelloDecodesForServer() throws {
        let frames = try decodeAll([0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58], role: .server)
        XCTAssertEqual(frames, [WebSocketFrame(opcode: .text, payload: Array("Hello".utf8))])
    }

    func testRFCFragmentedHelloDecodesAsTwoFrames() throws {
        let frames = try decodeAll([0x01, 0x03, 0x48, 0x65, 0x6C, 0x80, 0x02, 0x6C, 0x6F], role: .client)
        XCTAssertEqual(
            frames,
            [
                WebSocketFrame(fin: false, opcode: .text, payload: Array("Hel".utf8)),
                WebSocketFrame(fin: true, opcode: .continuation, payload: Array("lo".utf8)),
            ])
    }

    func testRFCPingAndMaskedPongDecode() throws {
        XCTAssertEqual(
            try decodeAll([0x89, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F], role: .client),
            [WebSocketFrame(opcode: .ping, payload: Array("Hello".utf8))])
        XCTAssertEqual(
            try decodeAll([0x8A, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58], role: .server),
            [WebSocketFrame(opcode: .pong, payload: Array("Hello".utf8))])
    }

    func testRFC256ByteBinaryUsesSixteenBitLength() throws {
        let payload = WebSocketTestFrames.payload(256)
        let frames = try decodeAll([0x82, 0x7E, 0x01, 0x00] + payload, role: .client)
        XCTAssertEqual(frames, [WebSocketFrame(opcode: .binary, payload: payload)])
    }

    func testRFC64KiBBinaryUsesSixtyFourBitLength() throws {
        let payload = WebSocketTestFrames.payload(65536)
        let frames = try decodeAll([0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0] + payload, role: .client)
        XCTAssertEqual(frames, [WebSocketFrame(opcode: .binary, payload: payload)])
    }

    // MARK: Partial input

    func testTruncatedFrameReturnsNilWithoutConsumingAtEveryLength() throws {
        for length in [0, 5, 125, 126, 300, 65535, 65536] {
            let frame = WebSocketTestFrames.client(.binary, WebSocketTestFrames.payload(length))
            for cut in 0..<frame.count where cut < 20 || cut > frame.count - 20 {
                var decoder = WebSocketFrameDecoder(role: .server, maxPayloadLength: 1 << 20)
                var buffer = ByteBuffer(bytes: frame[..<cut])
                XCTAssertNil(try decoder.next(from: &buffer), "length \(length) cut \(cut)")
                XCTAssertEqual(buffer.readableBytes, cut)
            }
        }
    }

    func testHeaderCutAtEveryByteOfEachLengthFormIsNotReadPastItsEnd() throws {
        // 7-, 16- and 64-bit lengths, each with its masking key: a header cut anywhere yields no header and
        // no frame, and the whole header reports its exact sizes and key.
        let key = WebSocketMaskingKey(0x01, 0x80, 0x7F, 0xFE)
        for (length, headerLength) in [(3, 6), (125, 6), (126, 8), (65535, 8), (65536, 14)] {
            let frame = WebSocketTestFrames.client(.binary, WebSocketTestFrames.payload(length), key: key)
            let decoder = WebSocketFrameDecoder(role: .server, maxPayloadLength: 1 << 20)
            for cut in 0..<headerLength {
                XCTAssertNil(try decoder.peekHeader(in: ByteBuffer(bytes: frame[..<cut])), "length \(length) cut \(cut)")
            }
            let header = try XCTUnwrap(try decoder.peekHeader(in: ByteBuffer(bytes: frame[..<headerLength])))
            XCTAssertEqual(header.headerLength, headerLength)
            XCTAssertEqual(header.payloadLength, length)
            XCTAssertEqual(header.maskingKey, key)
            XCTAssertEqual(try decodeAll(frame, role: .server), [WebSocketFrame(opcode: .binary, payload: WebSocketTestFrames.payload(length))])
        }
    }

    func testHeaderIsReadFromTheUnreadPartOfTheBuffer() throws {
        // A buffer whose reader index has moved (frames consumed before) is parsed from that index on.
        let first = WebSocketTestFrames.client(.text, Array("one".utf8))
        let second = WebSocketTestFrames.client(.binary, WebSocketTestFrames.payload(300))
        var decoder = WebSocketFrameDecoder(role: .server, maxPayloadLength: 1 << 20)
        var buffer = ByteBuffer(bytes: first + second[..<5])
        XCTAssertEqual(try decoder.next(from: &buffer), WebSocketFrame(opcode: .text, payload: Array("one".utf8)))
        XCTAssertNil(try decoder.peekHeader(in: buffer))
        buffer.append(contentsOf: second[5...])
        let header = try XCTUnwrap(try decoder.peekHeader(in: buffer))
        XCTAssertEqual(header.opcode, .binary)
        XCTAssertEqual(header.payloadLength, 300)
        XCTAssertEqual(try decoder.next(from: &buffer), WebSocketFrame(opcode: .binary, payload: WebSocketTestFrames.payload(300)))
    }

    func testFrameArrivingByteByByteDecodesOnceComplete() throws {
        let frame = WebSocketTestFrames.client(.text, Array("byte by byte".utf8))
        var decoder = WebSocketFrameDecoder(role: .server, maxPayloadLength: 1024)
        var buffer = ByteBuffer()
        var decoded: [WebSocketFrame] = []
        for byte in frame {
            buffer.append(byte)
            if let frame = try decoder.next(from: &buffer) { decoded.append(frame) }
        }
        XCTAssertEqual(decoded, [WebSocketFrame(opcode: .text, payload: Array("byte by byte".utf8))])
        XCTAssertEqual(buffer.readableBytes, 0)
    }

    func testSeveralFramesInOneBufferDecodeInOrderAndLeaveRemainder() throws {
        let first = WebSocketTestFrames.client(.text, Array("one".utf8))
        let second = WebSocketTestFrames.client(.binary, [1, 2, 3])
        let third = WebSocketTestFrames.client(.ping, [])
        var decoder = WebSocketFrameDecoder(role: .server, maxPayloadLength: 1024)
        var buffer = ByteBuffer(bytes: first + second + third.dropLast())
        XCTAssertEqual(try decoder.next(from: &buffer)?.payload, Array("one".utf8))
        XCTAssertEqual(try decoder.next(from: &buffer)?.opcode, .binary)
        XCTAssertNil(try decoder.next(from: &buffer))
        XCTAssertEqual(buffer.readableBytes, third.count - 1)
    }

    func testUnmaskingMatchesByteWiseReferenceForAllSmallLengths() throws {
        let key = WebSocketMaskingKey(0xA1, 0x02, 0xF3, 0x44)
        for length in 0..<70 {
            let payload = WebSocketTestFrames.payload(length, seed: UInt32(length))
            var wire: [UInt8] = [0x82, 0x80 | UInt8(length)]
            wire += key.bytes
            wire += payload.enumerated().map { $0.element ^ key.bytes[$0.offset % 4] }
            XCTAssertEqual(try decodeAll(wire, role: .server).first?.payload, payload, "length \(length)")
        }
    }

    /// Payloads up to 4096 bytes are copied and then unmasked in place, larger ones in one pass: both
    /// sides of that boundary, masked (server role) and unmasked (client role), against a byte-wise reference.
    func testPayloadsAroundTheTwoPassLimitDecodeExactly() throws {
        let key = WebSocketMaskingKey(0x5C, 0x00, 0xE7, 0x91)
        for length in [4093, 4095, 4096, 4097, 4100, 9000] {
            let payload = WebSocketTestFrames.payload(length, seed: UInt32(length))
            var masked: [UInt8] = [0x82, 0xFE, UInt8(length >> 8), UInt8(length & 0xFF)]
            masked += key.bytes
            masked += payload.enumerated().map { $0.element ^ key.bytes[$0.offset % 4] }
            XCTAssertEqual(try decodeAll(masked, role: .server).first?.payload, payload, "masked, length \(length)")
            let unmasked = WebSocketTestFrames.server(.binary, payload)
            XCTAssertEqual(try decodeAll(unmasked, role: .client).first?.payload, payload, "unmasked, length \(length)")
        }
    }

    func testNonMinimalLengthEncodingIsAccepted() throws {
        // Length 5 sent in the 16-bit and 64-bit forms.
        let hello = Array("Hello".utf8)
        XCTAssertEqual(try decodeAll([0x81, 0x7E, 0x00, 0x05] + hello, role: .client).first?.payload, hello)
        XCTAssertEqual(try decodeAll([0x81, 0x7F, 0, 0, 0, 0, 0, 0, 0, 5] + hello, role: .client).first?.payload, hello)
    }

    func testPeekHeaderReportsLengthsWithoutConsuming() throws {
        let frame = WebSocketTestFrames.client(.binary, WebSocketTestFrames.payload(300))
        let decoder = WebSocketFrameDecoder(role: .server, maxPayloadLength: 1024)
        XCTAssertNil(try decoder.peekHeader(in: ByteBuffer(bytes: frame[..<7])))
        let buffer = ByteBuffer(bytes: frame[..<8])
        let header = try XCTUnwrap(try decoder.peekHeader(in: buffer))
        XCTAssertEqual(header.opcode, .binary)
        XCTAssertEqual(header.payloadLength, 300)
        XCTAssertEqual(header.headerLength, 8)
        XCTAssertEqual(header.frameLength, frame.count)
        XCTAssertEqual(header.maskingKey, WebSocketTestFrames.rfcKey)
        XCTAssertEqual(buffer.readableBytes, 8)
    }

    // MARK: Masking rules

    func testServerRejectsUnmaskedClientFrame() {
        assertError([0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F], role: .server, .unmaskedFrame)
    }

    func testClientRejectsMaskedServerFrame() {
        assertError([0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58], role: .client, .maskedFrame)
    }

    func testMaskingViolationIsDetectedFromTheFirstTwoBytes() {
        assertError([0x82, 0x7F], role: .server, .unmaskedFrame)
    }

    // MARK: Reserved bits and opcodes

    func testReservedBitsWithoutExtensionAreRejected() {
        assertError([0xC1, 0x80, 0, 0, 0, 0], .reservedBitsSet(0x4))  // RSV1
        assertError([0xA1, 0x80, 0, 0, 0, 0], .reservedBitsSet(0x2))  // RSV2
        assertError([0x91, 0x80, 0, 0, 0, 0], .reservedBitsSet(0x1))  // RSV3
        assertError([0xF1, 0x80, 0, 0, 0, 0], .reservedBitsSet(0x7))
    }

    func testRSV1IsAllowedOnDataFrameWhenCompressionNegotiated() throws {
        let frames = try decodeAll(WebSocketTestFrames.client(.text, [0x00], rsv1: true), role: .server, compression: true)
        XCTAssertEqual(frames.first?.rsv1, true)
    }

    func testRSV2AndRSV3StayReservedEvenWithCompression() {
        assertError([0xE1, 0x80, 0, 0, 0, 0], compression: true, .reservedBitsSet(0x6))
    }

    func testRSV1OnContinuationOrControlFrameIsRejectedWithCompression() {
        assertError([0xC0, 0x80, 0, 0, 0, 0], compression: true, .compressionBitOnWrongFrame(.continuation))
        assertError([0xC9, 0x80, 0, 0, 0, 0], compression: true, .compressionBitOnWrongFrame(.ping))
        assertError([0xC8, 0x80, 0, 0, 0, 0], compression: true, .compressionBitOnWrongFrame(.close))
    }

    func testReservedOpcodesAreRejected() {
        for opcode: UInt8 in [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
            assertError([0x80 | opcode, 0x80, 0, 0, 0, 0], .reservedOpcode(opcode))
        }
    }

    // MARK: Control frames and lengths

    func testControlFrameLongerThan125BytesIsRejected() {
        assertError([0x89, 0xFE, 0x00, 0x7E], .controlFrameTooLong)
        assertError([0x88, 0xFF], .controlFrameTooLong)
    }

    func testControlFrameWith125BytesIsAccepted() throws {
        let payload = WebSocketTestFrames.payload(125)
        XCTAssertEqual(try decodeAll(WebSocketTestFrames.client(.ping, payload), role: .server).first?.payload, payload)
    }

    func testFragmentedControlFrameIsRejected() {
        assertError([0x09, 0x80, 0, 0, 0, 0], .fragmentedControlFrame)
    }

    func testSixtyFourBitLengthWithMostSignificantBitIsRejected() {
        assertError([0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4], .invalidPayloadLength)
    }

    func testOversizedFrameFailsWith1009BeforePayloadArrives() {
        // Only the header of a 1 MiB frame is present; the limit is 1000 bytes.
        assertError([0x82, 0xFF, 0, 0, 0, 0, 0, 0x10, 0, 0], max: 1000, .messageTooBig(limit: 1000), code: 1009)
        assertError([0x82, 0xFE, 0x03, 0xE9], max: 1000, .messageTooBig(limit: 1000), code: 1009)
    }

    func testFrameExactlyAtTheLimitIsAccepted() throws {
        let payload = WebSocketTestFrames.payload(1000)
        XCTAssertEqual(
            try decodeAll(WebSocketTestFrames.client(.binary, payload), role: .server, max: 1000).first?.payload, payload)
    }
}
