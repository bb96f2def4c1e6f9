import XCTest

@testable import EngineIO
@testable import HTTPKit
@testable import Transport

final class WebSocketFrameEncoderTests: XCTestCase {
    private let hello = Array("Hello".utf8)

    func testUnmaskedHelloMatchesRFCBytes() {
        var output: [UInt8] = []
        WebSocketFrameEncoder.encode(opcode: .text, payload: hello, into: &output)
        XCTAssertEqual(output, [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
    }

    func testMaskedHelloMatchesRFCBytes() {
        var output: [UInt8] = []
        WebSocketFrameEncoder.encode(opcode: .text, payload: hello, maskingKey: WebSocketTestFrames.rfcKey, into: &output)
        XCTAssertEqual(output, [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
    }

    func testFragmentedHelloMatchesRFCBytes() {
        var output: [UInt8] = []
        WebSocketFrameEncoder.encode(opcode: .text, payload: Array("Hel".utf8), fin: false, into: &output)
        WebSocketFrameEncoder.encode(opcode: .continuation, payload: Array("lo".utf8), into: &output)
        XCTAssertEqual(output, [0x01, 0x03, 0x48, 0x65, 0x6C, 0x80, 0x02, 0x6C, 0x6F])
    }

    func testPingAndMaskedPongMatchRFCBytes() {
        var ping: [UInt8] = []
        WebSocketFrameEncoder.encode(opcode: .ping, payload: hello, into: &ping)
        XCTAssertEqual(ping, [0x89, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
        var pong: [UInt8] = []
        WebSocketFrameEncoder.encode(opcode: .pong, payload: hello, maskingKey: WebSocketTestFrames.rfcKey, into: &pong)
        XCTAssertEqual(pong, [0x8A, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
    }

    func testLengthEncodingsMatchRFCExamples() {
        var header256: [UInt8] = []
        WebSocketFrameEncoder.headerBytes(opcode: .binary, payloadLength: 256, into: &header256)
        XCTAssertEqual(header256, [0x82, 0x7E, 0x01, 0x00])
        var header64K: [UInt8] = []
        WebSocketFrameEncoder.headerBytes(opcode: .binary, payloadLength: 65536, into: &header64K)
        XCTAssertEqual(header64K, [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0])
    }

    func testHeaderLengthForEachEncodingBoundary() {
        XCTAssertEqual(WebSocketFrameEncoder.headerLength(payloadLength: 0, masked: false), 2)
        XCTAssertEqual(WebSocketFrameEncoder.headerLength(payloadLength: 125, masked: false), 2)
        XCTAssertEqual(WebSocketFrameEncoder.headerLength(payloadLength: 126, masked: false), 4)
        XCTAssertEqual(WebSocketFrameEncoder.headerLength(payloadLength: 65535, masked: false), 4)
        XCTAssertEqual(WebSocketFrameEncoder.headerLength(payloadLength: 65536, masked: false), 10)
        XCTAssertEqual(WebSocketFrameEncoder.headerLength(payloadLength: 65536, masked: true), 14)
        for length in [0, 125, 126, 65535, 65536] {
            for key in [nil, WebSocketTestFrames.rfcKey] {
                var header: [UInt8] = []
                WebSocketFrameEncoder.headerBytes(opcode: .binary, payloadLength: length, maskingKey: key, into: &header)
                XCTAssertEqual(header.count, WebSocketFrameEncoder.headerLength(payloadLength: length, masked: key != nil))
            }
        }
    }

    func testHeaderBytesIsThePrefixOfTheEncodedFrame() {
        let payload = WebSocketTestFrames.payload(300)
        var frame: [UInt8] = []
        WebSocketFrameEncoder.encode(opcode: .binary, payload: payload, rsv1: true, into: &frame)
        var header: [UInt8] = []
        WebSocketFrameEncoder.headerBytes(opcode: .binary, payloadLength: 300, rsv1: true, into: &header)
        XCTAssertEqual(Array(frame.prefix(header.count)), header)
        XCTAssertEqual(Array(frame.dropFirst(header.count)), payload)
        XCTAssertEqual(frame[0], 0xC2)
    }

    func testEncodeAppendsToExistingOutput() {
        var output: [UInt8] = [0xAA]
        WebSocketFrameEncoder.encode(opcode: .text, payload: hello, maskingKey: WebSocketTestFrames.rfcKey, into: &output)
        XCTAssertEqual(output, [0xAA, 0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
    }

    func testRawBufferAndCollectionPayloadsEncodeIdentically() {
        let payload = WebSocketTestFrames.payload(1000)
        var fromCollection: [UInt8] = []
        WebSocketFrameEncoder.encode(
            opcode: .binary, payload: payload[3...], maskingKey: WebSocketTestFrames.rfcKey, into: &fromCollection)
        var fromRaw: [UInt8] = []
        payload.withUnsafeBytes { raw in
            WebSocketFrameEncoder.encode(
                opcode: .binary, payload: UnsafeRawBufferPointer(rebasing: raw[3...]),
                maskingKey: WebSocketTestFrames.rfcKey, into: &fromRaw)
        }
        XCTAssertEqual(fromCollection, fromRaw)
    }

    func testEncodedFramesRoundTripThroughDecoderInBothRoles() throws {
        for length in [0, 1, 7, 8, 9, 125, 126, 127, 65535, 65536, 70001] {
            let payload = WebSocketTestFrames.payload(length, seed: UInt32(length))
            for role in [WebSocketRole.server, .client] {
                var wire: [UInt8] = []
                let key = role == .server ? WebSocketMaskingKey.random() : nil
                WebSocketFrameEncoder.encode(opcode: .binary, payload: payload, fin: false, maskingKey: key, into: &wire)
                var decoder = WebSocketFrameDecoder(role: role, maxPayloadLength: 1 << 20)
                var buffer = ByteBuffer(bytes: wire)
                let frame = try decoder.next(from: &buffer)
                XCTAssertEqual(frame, WebSocketFrame(fin: false, opcode: .binary, payload: payload), "length \(length)")
                XCTAssertEqual(buffer.readableBytes, 0)
            }
        }
    }

    func testFrameValueEncodesReservedBitsVerbatim() {
        var output: [UInt8] = []
        WebSocketFrameEncoder.encode(
            WebSocketFrame(fin: true, rsv1: false, rsv2: true, rsv3: true, opcode: .text, payload: []), into: &output)
        XCTAssertEqual(output, [0xB1, 0x00])
    }

    func testClosePayloadCarriesCodeAndReason() {
        XCTAssertEqual(WebSocketFrameEncoder.closePayload(code: 1000, reason: "bye"), [0x03, 0xE8, 0x62, 0x79, 0x65])
        XCTAssertEqual(WebSocketFrameEncoder.closePayload(code: nil, reason: "ignored"), [])
    }

    func testCloseReasonIsTruncatedAtCharacterBoundaryToFitControlFrame() {
        let payload = WebSocketFrameEncoder.closePayload(code: 1001, reason: String(repeating: "é", count: 100))
        XCTAssertLessThanOrEqual(payload.count, 125)
        XCTAssertEqual(payload.count, 2 + 122)  // 61 two-byte characters fit in 123 bytes
        XCTAssertTrue(UTF8Validator.isValid(payload.dropFirst(2)))
    }

    func testRandomMaskingKeysDiffer() {
        let keys = Set((0..<8).map { _ in WebSocketMaskingKey.random() })
        XCTAssertGreaterThan(keys.count, 1)
    }
}

/// Masking works a word at a time with the key rotated to the payload offset: every offset and length must
/// give the byte-by-byte XOR of RFC 6455 §5.3.
final class WebSocketMaskingKeyTests: XCTestCase {
    func testWordWiseMaskingMatchesTheByteWiseDefinitionAtEveryOffsetAndLength() {
        let key = WebSocketMaskingKey(0x12, 0x9A, 0x00, 0xFF)
        let payload = (0..<40).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        for offset in 0..<8 {
            for length in 0...payload.count {
                var output = [UInt8](repeating: 0, count: length)
                payload.withUnsafeBytes { source in
                    output.withUnsafeMutableBytes { target in
                        key.apply(from: UnsafeRawBufferPointer(rebasing: source[0..<length]), to: target, offset: offset)
                    }
                }
                let expected = (0..<length).map { payload[$0] ^ key.byte(at: offset + $0) }
                XCTAssertEqual(output, expected, "offset \(offset), length \(length)")
            }
        }
    }

    func testMaskingTwiceRestoresThePayloadInPlace() {
        let key = WebSocketMaskingKey(0xA5, 0x5A, 0x01, 0x80)
        var bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0) }
        key.apply(to: &bytes, range: 3..<997)
        XCTAssertNotEqual(bytes, (0..<1000).map { UInt8(truncatingIfNeeded: $0) })
        key.apply(to: &bytes, range: 3..<997)
        XCTAssertEqual(bytes, (0..<1000).map { UInt8(truncatingIfNeeded: $0) })
    }
}
