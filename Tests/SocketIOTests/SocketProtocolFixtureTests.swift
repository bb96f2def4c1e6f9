import Foundation
import XCTest
@testable import SocketIO

/// Checks the encoder and decoder against packets captured from
/// python-socketio (see Tests/CompatFixtures/socketio/capture_socketio.py).
final class SocketProtocolFixtureTests: XCTestCase {
    private struct FixtureCase {
        var name: String
        var packet: SocketPacket
        var text: String
        var attachments: [[UInt8]]
        /// Whether our text must match byte for byte (false where Python's
        /// json module formats differently from JS, e.g. `\u00e9` or `1e-07`).
        var exact: Bool
    }

    private static let fixtureURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .appendingPathComponent("../CompatFixtures/socketio/packets.json")
        .standardized

    private func loadCases() throws -> [FixtureCase] {
        let bytes = [UInt8](try Data(contentsOf: Self.fixtureURL))
        let root = try JSONParser.parse(bytes)
        let marker = try XCTUnwrap(root["binaryMarker"]?.stringValue)
        let cases = try XCTUnwrap(root["cases"]?.arrayValue)
        return try cases.map { item in
            let fields = try XCTUnwrap(item["packet"])
            let typeNumber = try XCTUnwrap(fields["type"]?.intValue)
            let type = try XCTUnwrap(SocketPacketType(rawValue: UInt8(typeNumber)))
            var data: JSONValue?
            if let raw = fields["data"], !raw.isNull {
                data = try restoreBinary(raw, marker: marker)
            }
            let packet = SocketPacket(
                type: type,
                namespace: try XCTUnwrap(fields["namespace"]?.stringValue),
                data: data,
                id: fields["id"]?.intValue
            )
            let encoded = try XCTUnwrap(item["encoded"])
            let attachments = try XCTUnwrap(encoded["attachments"]?.arrayValue).map { value in
                try XCTUnwrap(Data(base64Encoded: try XCTUnwrap(value.stringValue))).map { $0 }
            }
            return FixtureCase(
                name: try XCTUnwrap(item["name"]?.stringValue),
                packet: packet,
                text: try XCTUnwrap(encoded["text"]?.stringValue),
                attachments: attachments,
                exact: item["exact"]?.boolValue ?? true
            )
        }
    }

    /// Turns `{"$binary":"<base64>"}` markers back into binary values.
    private func restoreBinary(_ value: JSONValue, marker: String) throws -> JSONValue {
        switch value {
        case let .array(elements):
            return .array(try elements.map { try restoreBinary($0, marker: marker) })
        case let .object(object):
            if object.count == 1, let encoded = object[marker]?.stringValue {
                return .binary([UInt8](try XCTUnwrap(Data(base64Encoded: encoded))))
            }
            var restored = JSONObject()
            for (key, member) in object {
                restored[key] = try restoreBinary(member, marker: marker)
            }
            return .object(restored)
        default:
            return value
        }
    }

    private func decode(_ text: [UInt8], _ attachments: [[UInt8]]) throws -> SocketPacket? {
        var decoder = SocketPacketDecoder()
        var result = try decoder.decode(text: text)
        for attachment in attachments {
            result = try decoder.decode(binary: attachment)
        }
        guard case let .packet(packet) = result else { return nil }
        return packet
    }

    /// What our decoder yields for a fixture packet: plain type, attachment count set.
    private func normalized(_ fixture: FixtureCase) -> SocketPacket {
        var packet = fixture.packet
        packet.type = packet.type.plain
        packet.attachments = fixture.attachments.count
        return packet
    }

    func testFixturesArePresentAndCoverEveryPacketType() throws {
        let cases = try loadCases()
        XCTAssertGreaterThanOrEqual(cases.count, 20)
        let types = Set(cases.map(\.packet.type))
        XCTAssertEqual(types, Set(SocketPacketType.allCases))
    }

    func testEncoderMatchesPythonSocketIO() throws {
        for fixture in try loadCases() {
            let encoded = try SocketPacketEncoder().encode(fixture.packet)
            XCTAssertEqual(encoded.attachments, fixture.attachments, fixture.name)
            if fixture.exact {
                XCTAssertEqual(encoded.textString, fixture.text, fixture.name)
            } else {
                // Same packet, different JSON spelling: compare decoded forms.
                let ours = try decode(encoded.text, encoded.attachments)
                let theirs = try decode(Array(fixture.text.utf8), fixture.attachments)
                XCTAssertNotNil(ours, fixture.name)
                XCTAssertEqual(ours, theirs, fixture.name)
                XCTAssertNotEqual(encoded.textString, fixture.text, "\(fixture.name) is byte-exact now; mark it exact")
            }
        }
    }

    func testDecoderReadsPythonSocketIOOutput() throws {
        for fixture in try loadCases() {
            let packet = try decode(Array(fixture.text.utf8), fixture.attachments)
            XCTAssertEqual(packet, normalized(fixture), fixture.name)
        }
    }

    func testDecoderReportsAttachmentCountsOfPythonOutput() throws {
        for fixture in try loadCases() where !fixture.attachments.isEmpty {
            var decoder = SocketPacketDecoder()
            let header = try decoder.decode(text: fixture.text)
            XCTAssertEqual(header, .awaitingAttachments(remaining: fixture.attachments.count), fixture.name)
        }
    }

    func testUnicodeFixtureDecodesToRawUTF8Strings() throws {
        let fixture = try XCTUnwrap(loadCases().first { $0.name == "event_unicode" })
        let packet = try decode(Array(fixture.text.utf8), [])
        XCTAssertEqual(packet?.data?[1], "héllo wörld ✓ 😀 del\u{7F}")
        let encoded = try SocketPacketEncoder().encode(fixture.packet)
        XCTAssertTrue(encoded.textString.contains("héllo wörld ✓ 😀"), "JS writes non-ASCII raw")
    }
}
