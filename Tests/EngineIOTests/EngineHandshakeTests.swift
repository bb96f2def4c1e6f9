import XCTest

import EngineIO

/// The handshake and error JSON must be byte-identical to Node's engine.io output.
final class EngineHandshakeTests: XCTestCase {
    func testHandshakeJSONUsesNodeKeyOrderAndDefaults() {
        let handshake = EngineHandshake(sid: "lv_VI97HAXpY6yYWAAAC")
        XCTAssertEqual(
            handshake.json,
            #"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
        )
    }

    func testHandshakeWithoutUpgradesHasEmptyArray() {
        let handshake = EngineHandshake(sid: "abc", upgrades: [], pingInterval: 300, pingTimeout: 200, maxPayload: 100_000)
        XCTAssertEqual(
            handshake.json,
            #"{"sid":"abc","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":100000}"#
        )
    }

    func testNumbersAreSpelledAsStringDoes() {
        for value in [0, 1, 9, 10, 99, 100, 25_000, 1_000_000, 999_999_999, -1, -10, Int.max, Int.min] {
            let handshake = EngineHandshake(sid: "s", upgrades: [], pingInterval: value, pingTimeout: value, maxPayload: value)
            XCTAssertEqual(
                handshake.json,
                #"{"sid":"s","upgrades":[],"pingInterval":\#(value),"pingTimeout":\#(value),"maxPayload":\#(value)}"#
            )
        }
        let v3 = EngineHandshake(sid: "s", upgrades: [], pingInterval: 5, pingTimeout: 7, includesMaxPayload: false)
        XCTAssertEqual(v3.json, #"{"sid":"s","upgrades":[],"pingInterval":5,"pingTimeout":7}"#)
    }

    func testHandshakeEscapesStringsLikeJSONStringify() {
        let handshake = EngineHandshake(sid: "a\"b\\c\n\u{1}é", upgrades: ["websocket", "x"])
        XCTAssertTrue(handshake.json.hasPrefix(#"{"sid":"a\"b\\c\n\u0001é","upgrades":["websocket","x"],"#), handshake.json)
    }

    func testOpenPacketEncodesWithDigitZero() {
        let packet = EngineHandshake(sid: "s").openPacket
        XCTAssertEqual(packet.type, .open)
        guard case .text(let bytes) = EnginePacketCodec.encode(packet) else { return XCTFail("not text") }
        XCTAssertEqual(bytes.first, UInt8(ascii: "0"))
        XCTAssertEqual(Array(bytes.dropFirst()), EngineHandshake(sid: "s").jsonBytes)
    }

    func testErrorJSONMatchesNodeForEveryCode() {
        let expected = [
            #"{"code":0,"message":"Transport unknown"}"#,
            #"{"code":1,"message":"Session ID unknown"}"#,
            #"{"code":2,"message":"Bad handshake method"}"#,
            #"{"code":3,"message":"Bad request"}"#,
            #"{"code":4,"message":"Forbidden"}"#,
            #"{"code":5,"message":"Unsupported protocol version"}"#,
        ]
        XCTAssertEqual(EngineErrorCode.allCases.map { $0.json() }, expected)
    }

    func testErrorHTTPStatusIsForbiddenOnlyForCodeFour() {
        for code in EngineErrorCode.allCases {
            XCTAssertEqual(code.httpStatus, code == .forbidden ? 403 : 400, "\(code)")
        }
    }

    func testErrorCustomMessageIsEscaped() {
        XCTAssertEqual(EngineErrorCode.forbidden.json(message: "no \"way\""), #"{"code":4,"message":"no \"way\""}"#)
    }
}
