import XCTest

import EngineIO
import HTTPKit
import Transport

/// Engine.IO v3 polling bodies: the text form (`<UTF-16 length>:<packet>`, binary as `b4` + base64), the binary
/// form (kind byte, length digits as bytes, 0xFF), JSONP scripts and `d=` posts. Expected bytes follow what
/// engine.io-parser 2 (Node, JS v2 client) and python-engineio 3 write.
final class EngineV3PayloadCodecTests: XCTestCase {
    private func bytes(_ string: String) -> [UInt8] { Array(string.utf8) }

    // MARK: Text form

    func testTextFormPrefixesEachPacketWithItsLength() {
        let body = EngineV3PayloadCodec.encodeText([.message("hello"), .ping(), .binary([1, 2, 3])])
        XCTAssertEqual(String(decoding: body, as: UTF8.self), "6:4hello1:26:b4AQID")
    }

    func testTextFormCountsUTF16UnitsAsJavaScriptDoes() {
        // "é" and "€" are one unit each, "😀" (above U+FFFF) two: 1 + 1 + 1 + 2 = 5 units, 10 bytes.
        let body = EngineV3PayloadCodec.encodeText([.message("é€😀")])
        XCTAssertEqual(String(decoding: body, as: UTF8.self), "5:4é€😀")
        XCTAssertEqual(try EngineV3PayloadCodec.decode(body), [.message("é€😀")])
    }

    func testTextFormDecodesSeveralPacketsAndBase64() throws {
        let packets = try EngineV3PayloadCodec.decode(bytes("6:4hello1:26:b4AQID3:4😀"))
        XCTAssertEqual(packets, [.message("hello"), .ping(), .binary([1, 2, 3]), .message("😀")])
    }

    func testTextFormRejectsBadLengths() {
        for body in ["4hello", "6:4hell", "0:", ":4", "x:4a", "12345678901:4", "2:4😀", "1:4junk"] {
            XCTAssertThrowsError(try EngineV3PayloadCodec.decode(bytes(body)), body)
        }
    }

    func testTextFormRejectsBase64OfAnotherTypeAndBadDigits() {
        XCTAssertThrowsError(try EngineV3PayloadCodec.decode(bytes("4:b2AQ")))
        XCTAssertThrowsError(try EngineV3PayloadCodec.decode(bytes("2:9x")))
        XCTAssertThrowsError(try EngineV3PayloadCodec.decode([]))
    }

    // MARK: Binary form

    func testBinaryFormAsPythonEngineIO3WritesIt() {
        // python-engineio 3: b'\x00' + digits as bytes + b'\xff' + '4hello'; b'\x01' ... b'\x04' + data.
        let body = EngineV3PayloadCodec.encodeBinary([.message("hello"), .binary([0xFF, 0x00])])
        XCTAssertEqual(body, [0x00, 6, 0xFF] + bytes("4hello") + [0x01, 3, 0xFF, 0x04, 0xFF, 0x00])
    }

    func testBinaryFormLengthsAreBytesWithSeveralDigits() throws {
        let text = String(repeating: "é", count: 6)  // 12 bytes + the type digit: 13
        let body = EngineV3PayloadCodec.encodeBinary([.message(text)])
        XCTAssertEqual(Array(body.prefix(4)), [0x00, 1, 3, 0xFF])
        XCTAssertEqual(try EngineV3PayloadCodec.decode(body), [.message(text)])
    }

    func testBinaryFormRoundTripsMixedPackets() throws {
        let packets: [EnginePacket] = [.message("a"), .binary(Array(0...255)), .ping("probe"), .binary([])]
        XCTAssertEqual(try EngineV3PayloadCodec.decode(EngineV3PayloadCodec.encodeBinary(packets)), packets)
    }

    func testBinaryFormRejectsTruncationAndOtherTypes() {
        XCTAssertThrowsError(try EngineV3PayloadCodec.decode([0x00, 9, 0xFF] + bytes("4ab")))
        XCTAssertThrowsError(try EngineV3PayloadCodec.decode([0x00, 2]))
        XCTAssertThrowsError(try EngineV3PayloadCodec.decode([0x01, 2, 0xFF, 0x02, 0x00]))
        XCTAssertThrowsError(try EngineV3PayloadCodec.decode([0x00, 12, 0xFF] + bytes("4a")))
        XCTAssertThrowsError(try EngineV3PayloadCodec.decode([0x00, 2, 0xFF, 0x34, 0xC3]))  // cut UTF-8
    }

    func testNonASCIITextIsDetected() {
        XCTAssertFalse(EngineV3PayloadCodec.holdsNonASCIIText([.message("plain"), .binary([0xFF])]))
        XCTAssertTrue(EngineV3PayloadCodec.holdsNonASCIIText([.message("plain"), .message("ü")]))
    }

    // MARK: JSONP

    func testJSONPWrapsThePayloadAsAJavaScriptString() {
        let script = EngineV3PayloadCodec.jsonp(bytes("9:42[\"a\\\"\"]2:4\n"), index: "3")
        XCTAssertEqual(String(decoding: script, as: UTF8.self), #"___eio[3]("9:42[\"a\\\"\"]2:4\n");"#)
    }

    func testJSONPEscapesLineAndParagraphSeparators() {
        let script = EngineV3PayloadCodec.jsonp(bytes("3:4\u{2028}\u{2029}"), index: "0")
        XCTAssertEqual(String(decoding: script, as: UTF8.self), #"___eio[0]("3:4\u2028\u2029");"#)
    }

    func testJSONPIndexKeepsOnlyDigits() {
        XCTAssertEqual(EngineV3PayloadCodec.jsonpIndex("1a2);alert(3"), "123")
        XCTAssertEqual(EngineV3PayloadCodec.jsonpIndex(""), "")
    }

    func testJSONPPostUndoesTheClientsNewlineEscapes() {
        // The form field `d` holds `\n` for a newline and `\\n` for an escaped one (as "\n" in JSON).
        let body = URLEncodedForm.serialize([("d", #"5:4a\nb8:4c\\nd"#)])
        let data = EngineV3PayloadCodec.jsonpPostData(body)
        XCTAssertEqual(data.map { String(decoding: $0, as: UTF8.self) }, "5:4a\nb8:4c\\nd")
        XCTAssertNil(EngineV3PayloadCodec.jsonpPostData(bytes("x=1")))
    }

    // MARK: Handshake

    func testV3OpenPacketHasNoMaxPayload() {
        let handshake = EngineHandshake(sid: "abc", upgrades: ["websocket"], pingInterval: 25_000, pingTimeout: 20_000,
                                        includesMaxPayload: false)
        XCTAssertEqual(handshake.json, #"{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#)
    }
}
