@testable import EngineIO
import XCTest

/// The open packet is written from a template made once per server: it must be byte for byte what the
/// generic `EngineHandshake` encoder writes, for both protocol versions and both upgrade lists.
final class EngineOpenPacketTemplateTests: XCTestCase {
    func testTemplateWritesWhatTheHandshakeEncoderWrites() {
        for (interval, timeout, payload) in [(25_000, 20_000, 1_000_000), (300, 200, 100_000), (0, 1, Int.max)] {
            let template = EngineOpenPacketTemplate(pingInterval: interval, pingTimeout: timeout, maxPayload: payload)
            for sid in ["lv_VI97HAXpY6yYWAAAC", EngineSessionID.generate(), ""] {
                for upgrades in [false, true] {
                    for isV3 in [false, true] {
                        let expected = EngineHandshake(sid: sid, upgrades: upgrades ? ["websocket"] : [], pingInterval: interval,
                                                       pingTimeout: timeout, maxPayload: payload, includesMaxPayload: !isV3).jsonBytes
                        let length = template.length(sid: sid, upgradesToWebSocket: upgrades, isV3: isV3)
                        var written: [UInt8] = []
                        template.append(sid: sid, upgradesToWebSocket: upgrades, isV3: isV3, to: &written)
                        XCTAssertEqual(String(decoding: written, as: UTF8.self), String(decoding: expected, as: UTF8.self))
                        XCTAssertEqual(length, expected.count)
                    }
                }
            }
        }
    }

    func testIdsThatNeedEscapingAreLeftToTheEncoder() {
        let template = EngineOpenPacketTemplate(pingInterval: 25_000, pingTimeout: 20_000, maxPayload: 1_000_000)
        for sid in ["a\"b", "a\\b", "a\nb", "é"] {
            XCTAssertNil(template.length(sid: sid, upgradesToWebSocket: false, isV3: false), sid)
        }
    }
}
