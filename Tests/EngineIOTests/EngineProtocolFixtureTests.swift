import Foundation
import XCTest

import EngineIO
import Transport

/// Checks the codecs against encodings produced by python-engineio (see
/// `Tests/CompatFixtures/engineio/capture_engineio.py`): decoding each reference encoding must give the
/// recorded packets, and encoding those packets must give the reference bytes exactly.
final class EngineProtocolFixtureTests: XCTestCase {
    private struct Document: Decodable {
        var protocolVersion: Int
        var cases: [Case]

        enum CodingKeys: String, CodingKey {
            case protocolVersion = "protocol"
            case cases
        }
    }

    private struct Case: Decodable {
        var name: String
        var kind: String
        var packets: [Packet]?
        var frame: String?
        var encoded: String?
        var encodedBase64: String?
        var target: String?
        var input: String?

        enum CodingKeys: String, CodingKey {
            case name, kind, packets, frame, encoded, target, input
            case encodedBase64 = "encoded_base64"
        }
    }

    private struct Packet: Decodable {
        var type: UInt8
        var data: String
        var binary: Bool
    }

    private static func loadDocument() throws -> Document {
        // The fixture sits beside the test sources, so locate it from this file rather than the bundle.
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()
            .appendingPathComponent("../CompatFixtures/engineio/packets.json")
            .standardizedFileURL
        let data = try Data(contentsOf: url)
        return try JSONDecoder().decode(Document.self, from: data)
    }

    /// Builds the expected packet with Foundation's base64, so our decoder is not checked against itself.
    private static func expectedPacket(_ packet: Packet, in caseName: String) throws -> EnginePacket {
        let type = try XCTUnwrap(EnginePacketType(rawValue: packet.type), "bad type in \(caseName)")
        if packet.binary {
            let bytes = try XCTUnwrap(Data(base64Encoded: packet.data), "bad base64 in \(caseName)")
            return EnginePacket(binaryMessage: Array(bytes))
        }
        return EnginePacket(type: type, text: packet.data)
    }

    private func cases(kind: String) throws -> [Case] {
        let found = try Self.loadDocument().cases.filter { $0.kind == kind }
        XCTAssertFalse(found.isEmpty, "fixture has no \(kind) cases")
        return found
    }

    func testFixtureIsProtocolFourAndCoversEveryPacketType() throws {
        let document = try Self.loadDocument()
        XCTAssertEqual(document.protocolVersion, 4)
        let types = Set(document.cases.flatMap { $0.packets ?? [] }.map(\.type))
        XCTAssertEqual(types, Set(EnginePacketType.allCases.map(\.rawValue)))
        XCTAssertTrue(document.cases.contains { $0.packets?.contains { $0.binary } ?? false })
    }

    func testReferencePacketEncodingsDecodeToRecordedPackets() throws {
        for fixture in try cases(kind: "packet") {
            let expected = try Self.expectedPacket(try XCTUnwrap(fixture.packets?.first), in: fixture.name)
            let decoded: EnginePacket
            if fixture.frame == "binary" {
                let raw = try XCTUnwrap(Data(base64Encoded: fixture.encodedBase64 ?? ""), fixture.name)
                decoded = EnginePacketCodec.decode(binary: Array(raw))
            } else {
                decoded = try EnginePacketCodec.decode(text: Array(try XCTUnwrap(fixture.encoded).utf8))
            }
            XCTAssertEqual(decoded, expected, fixture.name)
        }
    }

    func testRecordedPacketsEncodeToReferenceBytes() throws {
        for fixture in try cases(kind: "packet") {
            let packet = try Self.expectedPacket(try XCTUnwrap(fixture.packets?.first), in: fixture.name)
            let expected: EnginePacketCodec.Frame
            if fixture.frame == "binary" {
                let raw = try XCTUnwrap(Data(base64Encoded: fixture.encodedBase64 ?? ""), fixture.name)
                expected = .binary(Array(raw))
            } else {
                expected = .text(Array(try XCTUnwrap(fixture.encoded).utf8))
            }
            XCTAssertEqual(EnginePacketCodec.encode(packet), expected, fixture.name)

            var buffer = ByteBuffer()
            let kind = EnginePacketCodec.write(packet, into: &buffer)
            XCTAssertEqual(kind, fixture.frame == "binary" ? .binary : .text, fixture.name)
            switch expected {
            case .text(let bytes), .binary(let bytes):
                XCTAssertEqual(buffer.readableArray, bytes, fixture.name)
                XCTAssertEqual(EnginePacketCodec.encodedLength(of: packet), bytes.count, fixture.name)
            }
        }
    }

    func testReferencePayloadsDecodeToRecordedPackets() throws {
        for fixture in try cases(kind: "payload") {
            let expected = try (fixture.packets ?? []).map { try Self.expectedPacket($0, in: fixture.name) }
            let body = Array(try XCTUnwrap(fixture.encoded).utf8)
            XCTAssertEqual(try EnginePayloadCodec.decode(body), expected, fixture.name)
        }
    }

    func testRecordedPacketsEncodeToReferencePayloads() throws {
        for fixture in try cases(kind: "payload") {
            let packets = try (fixture.packets ?? []).map { try Self.expectedPacket($0, in: fixture.name) }
            let expected = Array(try XCTUnwrap(fixture.encoded).utf8)
            XCTAssertEqual(EnginePayloadCodec.encode(packets), expected, fixture.name)
            XCTAssertEqual(EnginePayloadCodec.encodedLength(of: packets), expected.count, fixture.name)
            var buffer = ByteBuffer()
            EnginePayloadCodec.encode(packets, into: &buffer)
            XCTAssertEqual(buffer.readableArray, expected, fixture.name)
        }
    }

    func testInputsRejectedByReferenceAreRejected() throws {
        for fixture in try cases(kind: "invalid") {
            let input = Array(try XCTUnwrap(fixture.input).utf8)
            if fixture.target == "packet" {
                XCTAssertThrowsError(try EnginePacketCodec.decode(text: input), fixture.name)
            } else {
                XCTAssertThrowsError(try EnginePayloadCodec.decode(input), fixture.name)
            }
        }
    }
}
