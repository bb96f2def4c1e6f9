import XCTest

import EngineIO
import Transport

/// WebSocket-message form of Engine.IO packets: `<digit><text>` text messages and prefix-less binary ones.
final class EnginePacketCodecTests: XCTestCase {
    private func decodeText(_ string: String) throws(EngineProtocolError) -> EnginePacket {
        try EnginePacketCodec.decode(text: Array(string.utf8))
    }

    private func assertDecodeError(
        _ bytes: [UInt8],
        _ expected: EngineProtocolError,
        file: StaticString = #filePath,
        line: UInt = #line
    ) {
        do {
            let packet = try EnginePacketCodec.decode(text: bytes)
            XCTFail("decoded \(packet) from \(bytes)", file: file, line: line)
        } catch {
            XCTAssertEqual(error, expected, file: file, line: line)
        }
    }

    // MARK: Packet types

    func testEachTypeDigitMapsToItsType() {
        for type in EnginePacketType.allCases {
            XCTAssertEqual(EnginePacketType(asciiDigit: type.asciiDigit), type)
            XCTAssertEqual(type.asciiDigit, UInt8(ascii: "0") + type.rawValue)
        }
    }

    func testBytesOutsideZeroToSixAreNotPacketTypes() {
        for byte in [UInt8(ascii: "7"), UInt8(ascii: "9"), UInt8(ascii: "/"), UInt8(ascii: "b"), 0, 0xFF] {
            XCTAssertNil(EnginePacketType(asciiDigit: byte), "byte \(byte)")
        }
    }

    // MARK: Decoding

    func testTextMessageDecodesWithoutTypeDigit() throws {
        let packet = try decodeText("4hello")
        XCTAssertEqual(packet.type, .message)
        XCTAssertEqual(packet.payload, .text(Array("hello".utf8)))
        XCTAssertEqual(packet.text, "hello")
    }

    func testPingProbeDecodes() throws {
        XCTAssertEqual(try decodeText("2probe"), .ping("probe"))
        XCTAssertEqual(try decodeText("3probe"), .pong("probe"))
    }

    func testBareTypeDigitDecodesWithEmptyText() throws {
        XCTAssertEqual(try decodeText("2"), .ping())
        XCTAssertEqual(try decodeText("4"), .message(""))
        XCTAssertEqual(try decodeText("6"), .noop)
    }

    func testMultibyteTextIsKeptAsRawUTF8() throws {
        let packet = try decodeText("4héllo 😀")
        XCTAssertEqual(packet.data, Array("héllo 😀".utf8))
        XCTAssertEqual(packet.text, "héllo 😀")
    }

    func testDecodingFromArraySliceMatchesArray() throws {
        let frame: [UInt8] = Array("xx4hello".utf8)
        XCTAssertEqual(try EnginePacketCodec.decode(text: frame[2...]), .message("hello"))
        XCTAssertThrowsError(try EnginePacketCodec.decode(text: frame[0...]))
    }

    func testBinaryFrameIsBinaryMessageWithoutPrefix() {
        let packet = EnginePacketCodec.decode(binary: [0x34, 0x00, 0xFF])
        XCTAssertEqual(packet.type, .message)
        XCTAssertEqual(packet.payload, .binary([0x34, 0x00, 0xFF]))
        XCTAssertTrue(packet.isBinary)
        XCTAssertNil(packet.text)
    }

    func testEmptyBinaryFrameIsEmptyBinaryMessage() {
        XCTAssertEqual(EnginePacketCodec.decode(binary: []), .binary([]))
    }

    func testFrameEnumDecodesBothKinds() throws {
        XCTAssertEqual(try EnginePacketCodec.decode(.text(Array("4hi".utf8))), .message("hi"))
        XCTAssertEqual(try EnginePacketCodec.decode(.binary([1])), .binary([1]))
    }

    func testBase64MarkedTextFrameDecodesAsBinaryMessage() throws {
        // What Node's client sends over WebSocket with `forceBase64`.
        XCTAssertEqual(try decodeText("bAQID"), .binary([1, 2, 3]))
    }

    func testBareBinaryMarkerDecodesAsEmptyBinaryMessage() throws {
        // Node and python-engineio both encode an empty binary message as a lone `b`.
        XCTAssertEqual(try decodeText("b"), .binary([]))
    }

    // MARK: Malformed input

    func testEmptyTextFrameThrowsEmptyPacket() {
        assertDecodeError([], .emptyPacket)
    }

    func testUnknownTypeDigitThrows() {
        assertDecodeError(Array("7hello".utf8), .unknownPacketType(UInt8(ascii: "7")))
        assertDecodeError(Array("9".utf8), .unknownPacketType(UInt8(ascii: "9")))
    }

    func testNonDigitTypeByteThrows() {
        assertDecodeError(Array("hello".utf8), .unknownPacketType(UInt8(ascii: "h")))
        assertDecodeError(Array("{\"a\":1}".utf8), .unknownPacketType(UInt8(ascii: "{")))
        assertDecodeError([0xE2, 0x82, 0xAC], .unknownPacketType(0xE2))
    }

    func testBinaryMarkerWithInvalidBase64CharacterThrows() {
        assertDecodeError(Array("bAQ!D".utf8), .invalidBase64(.invalidCharacter(offset: 2)))
    }

    func testBinaryMarkerWithDanglingBase64CharacterThrows() {
        assertDecodeError(Array("bAQIDB".utf8), .invalidBase64(.invalidLength))
    }

    // MARK: Encoding

    func testTextPacketEncodesWithTypeDigitPrefix() {
        XCTAssertEqual(EnginePacketCodec.encode(.message("hello")), .text(Array("4hello".utf8)))
        XCTAssertEqual(EnginePacketCodec.encode(.ping("probe")), .text(Array("2probe".utf8)))
        XCTAssertEqual(EnginePacketCodec.encode(.close), .text(Array("1".utf8)))
    }

    func testBinaryPacketEncodesAsRawBytes() {
        XCTAssertEqual(EnginePacketCodec.encode(.binary([0, 1, 255])), .binary([0, 1, 255]))
        XCTAssertEqual(EnginePacketCodec.frameKind(of: .binary([])), .binary)
        XCTAssertEqual(EnginePacketCodec.frameKind(of: .message("")), .text)
    }

    func testWriteAppendsToExistingContent() {
        var buffer = ByteBuffer(string: "xy")
        XCTAssertEqual(EnginePacketCodec.write(.message("hi"), into: &buffer), .text)
        XCTAssertEqual(buffer.readableArray, Array("xy4hi".utf8))

        var array: [UInt8] = [9]
        XCTAssertEqual(EnginePacketCodec.write(.binary([1, 2]), into: &array), .binary)
        XCTAssertEqual(array, [9, 1, 2])
    }

    func testEncodedLengthMatchesEncoding() {
        let packets: [EnginePacket] = [.message("héllo"), .ping(), .binary([1, 2, 3]), .binary([]), .noop]
        for packet in packets {
            switch EnginePacketCodec.encode(packet) {
            case .text(let bytes), .binary(let bytes):
                XCTAssertEqual(EnginePacketCodec.encodedLength(of: packet), bytes.count, "\(packet)")
            }
        }
    }

    func testEveryTypeRoundTrips() throws {
        for type in EnginePacketType.allCases {
            let packet = EnginePacket(type: type, text: "data \(type)")
            XCTAssertEqual(try EnginePacketCodec.decode(EnginePacketCodec.encode(packet)), packet)
        }
        XCTAssertEqual(try EnginePacketCodec.decode(EnginePacketCodec.encode(.binary([7, 8]))), .binary([7, 8]))
    }
}
