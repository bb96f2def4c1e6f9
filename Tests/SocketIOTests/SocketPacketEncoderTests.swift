import XCTest
@testable import SocketIO

final class SocketPacketEncoderTests: XCTestCase {
    private let encoder = SocketPacketEncoder()

    private func encode(_ packet: SocketPacket, file: StaticString = #filePath, line: UInt = #line) -> SocketEncodedPacket? {
        do {
            return try encoder.encode(packet)
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
            return nil
        }
    }

    private func assertText(_ packet: SocketPacket, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(encode(packet, file: file, line: line)?.textString, expected, file: file, line: line)
    }

    private func assertThrows(_ packet: SocketPacket, _ expected: SocketProtocolError, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let encoded = try encoder.encode(packet)
            XCTFail("expected \(expected), got \(encoded.textString)", file: file, line: line)
        } catch {
            XCTAssertEqual(error, expected, file: file, line: line)
        }
    }

    // Examples from the protocol specification's "Packet encoding" section.

    func testEncodesConnectPacketsLikeTheSpecification() {
        assertText(.connect(), "0")
        assertText(.connect(data: ["sid": "wZX3oN0bSVIhsaknAAAI"]), #"0{"sid":"wZX3oN0bSVIhsaknAAAI"}"#)
        assertText(.connect(namespace: "/admin"), "0/admin,")
        assertText(.connect(namespace: "/admin", data: ["sid": "oSO0OpakMV_3jnilAAAA"]), #"0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#)
        assertText(.connectError(message: "Not authorized"), #"4{"message":"Not authorized"}"#)
    }

    func testEncodesEventsLikeTheSpecification() {
        assertText(.event("foo"), #"2["foo"]"#)
        assertText(.event("bar", namespace: "/admin"), #"2/admin,["bar"]"#)
        assertText(.event("foo", id: 12), #"212["foo"]"#)
        assertText(.event("foo", namespace: "/admin", id: 13), #"2/admin,13["foo"]"#)
    }

    func testEncodesAcksLikeTheSpecification() {
        assertText(.ack(id: 12), "312[]")
        assertText(.ack(id: 13, ["bar"], namespace: "/admin"), #"3/admin,13["bar"]"#)
    }

    func testEncodesDisconnectLikeTheSpecification() {
        assertText(.disconnect(), "1")
        assertText(.disconnect(namespace: "/admin"), "1/admin,")
    }

    func testOmitsNullPayloadLikeTheReference() {
        assertText(SocketPacket(type: .connect, namespace: "/a", data: .null), "0/a,")
        assertText(SocketPacket(type: .disconnect, data: .null), "1")
    }

    func testTreatsEmptyNamespaceAsMainNamespace() {
        assertText(.event("x", namespace: ""), #"2["x"]"#)
    }

    func testEncodesConnectErrorWithData() {
        assertText(.connectError(namespace: "/a", message: "no", data: ["code": 4]), #"4/a,{"message":"no","data":{"code":4}}"#)
        assertText(SocketPacket(type: .connectError, data: "Unauthorized"), #"4"Unauthorized""#)
    }

    func testEncodesBinaryEventWithPlaceholdersAndAttachments() {
        let packet = SocketPacket.event("baz", [.binary([1, 2, 3, 4])])
        let encoded = encode(packet)
        XCTAssertEqual(encoded?.textString, #"51-["baz",{"_placeholder":true,"num":0}]"#)
        XCTAssertEqual(encoded?.attachments, [[1, 2, 3, 4]])

        let two = encode(.event("baz", [.binary([1, 2]), .binary([3, 4])], namespace: "/admin"))
        XCTAssertEqual(two?.textString, #"52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#)
        XCTAssertEqual(two?.attachments, [[1, 2], [3, 4]])
    }

    func testEncodesBinaryEventWithAckIdAndBinaryAck() {
        let event = encode(.event("foo", [.binary([1, 2, 3, 4])], id: 14))
        XCTAssertEqual(event?.textString, #"51-14["foo",{"_placeholder":true,"num":0}]"#)
        let ack = encode(.ack(id: 15, ["bar", .binary([1, 2, 3, 4])]))
        XCTAssertEqual(ack?.textString, #"61-15["bar",{"_placeholder":true,"num":0}]"#)
        XCTAssertEqual(ack?.attachments, [[1, 2, 3, 4]])
        let nsAck = encode(.ack(id: 1, [.binary([9])], namespace: "/admin"))
        XCTAssertEqual(nsAck?.textString, #"61-/admin,1[{"_placeholder":true,"num":0}]"#)
    }

    func testNumbersNestedAttachmentsDepthFirst() {
        let packet = SocketPacket.event("multi", [
            ["inner": [.binary([1]), ["deeper": .binary([2])]]],
            .binary([3]),
        ])
        let encoded = encode(packet)
        XCTAssertEqual(
            encoded?.textString,
            #"53-["multi",{"inner":[{"_placeholder":true,"num":0},{"deeper":{"_placeholder":true,"num":1}}]},{"_placeholder":true,"num":2}]"#
        )
        XCTAssertEqual(encoded?.attachments, [[1], [2], [3]])
    }

    func testBinaryTypeWithoutBinaryDataIsSentAsPlainType() {
        assertText(SocketPacket(type: .binaryEvent, data: ["x"]), #"2["x"]"#)
        assertText(SocketPacket(type: .binaryAck, data: [], id: 3), "33[]")
    }

    func testRejectsNamespaceContainingComma() {
        assertThrows(.event("hello", namespace: "/a,b"), .invalidNamespace("/a,b"))
        assertThrows(.event("hello", [.binary([1])], namespace: "/a,b"), .invalidNamespace("/a,b"))
    }

    func testRejectsNamespaceWithoutLeadingSlash() {
        assertThrows(.connect(namespace: "admin"), .invalidNamespace("admin"))
    }

    func testRejectsNegativeAckId() {
        assertThrows(.event("x", id: -1), .invalidAckId)
    }

    func testRejectsBinaryInPacketTypesWithoutAttachments() {
        assertThrows(.connect(data: ["token": .binary([1])]), .binaryNotAllowed(.connect))
        assertThrows(SocketPacket(type: .connectError, data: .binary([1])), .binaryNotAllowed(.connectError))
    }

    func testAppendsToAnExistingBuffer() throws {
        var text = Array("4".utf8) // e.g. an Engine.IO message prefix
        let attachments = try encoder.encode(.event("hi", [1]), appendingTextTo: &text)
        XCTAssertEqual(String(decoding: text, as: UTF8.self), #"42["hi",1]"#)
        XCTAssertEqual(attachments, [])
    }

    func testEncodesEventFromRawArguments() throws {
        let raw = Array(#""hello",{"a":[1,2]},3"#.utf8)
        XCTAssertEqual(
            String(decoding: try encoder.encodeEvent(name: "chat", rawArguments: raw), as: UTF8.self),
            #"2["chat","hello",{"a":[1,2]},3]"#
        )
        XCTAssertEqual(
            String(decoding: try encoder.encodeEvent(namespace: "/room", name: "chat", rawArguments: raw[...], ackId: 9), as: UTF8.self),
            #"2/room,9["chat","hello",{"a":[1,2]},3]"#
        )
        XCTAssertEqual(
            String(decoding: try encoder.encodeEvent(name: "ping", rawArguments: [UInt8]()), as: UTF8.self),
            #"2["ping"]"#
        )
    }

    func testRawEventEscapesTheName() throws {
        let text = try encoder.encodeEvent(name: "a\"b\n", rawArguments: Array("1".utf8))
        XCTAssertEqual(String(decoding: text, as: UTF8.self), #"2["a\"b\n",1]"#)
    }

    func testRawEventWithAttachmentsIsBinaryEvent() throws {
        let raw = Array(#"{"_placeholder":true,"num":0}"#.utf8)
        let text = try encoder.encodeEvent(namespace: "/f", name: "file", rawArguments: raw, attachmentCount: 1)
        XCTAssertEqual(String(decoding: text, as: UTF8.self), #"51-/f,["file",{"_placeholder":true,"num":0}]"#)
    }

    func testRawEventValidatesHeaderFields() {
        XCTAssertThrowsError(try encoder.encodeEvent(namespace: "/a,b", name: "x", rawArguments: [UInt8]()))
        XCTAssertThrowsError(try encoder.encodeEvent(name: "x", rawArguments: [UInt8](), ackId: -5))
        XCTAssertThrowsError(try encoder.encodeEvent(name: "x", rawArguments: [UInt8](), attachmentCount: -1))
    }

    func testEncodesAckFromRawArguments() throws {
        let text = try encoder.encodeAck(namespace: "/admin", id: 13, rawArguments: Array(#""bar",1"#.utf8))
        XCTAssertEqual(String(decoding: text, as: UTF8.self), #"3/admin,13["bar",1]"#)
        let empty = try encoder.encodeAck(id: 12, rawArguments: [UInt8]())
        XCTAssertEqual(String(decoding: empty, as: UTF8.self), "312[]")
        let binary = try encoder.encodeAck(id: 2, rawArguments: Array(#"{"_placeholder":true,"num":0}"#.utf8), attachmentCount: 1)
        XCTAssertEqual(String(decoding: binary, as: UTF8.self), #"61-2[{"_placeholder":true,"num":0}]"#)
    }

    func testEncodedPacketsDecodeBackToTheSamePacket() throws {
        let packets: [SocketPacket] = [
            .connect(),
            .connect(namespace: "/admin", data: ["token": "t", "n": 1]),
            .disconnect(namespace: "/x"),
            .event("msg", ["héllo", 1.5, ["a": nil]], namespace: "/chat", id: 77),
            .ack(id: 0, []),
            .connectError(message: "nope", data: ["retry": false]),
            .event("bin", [.binary([1, 2]), ["k": [.binary([]), .binary([3])]]], id: 4),
            .ack(id: 5, [.binary([0xFF])], namespace: "/n"),
        ]
        for packet in packets {
            let encoded = try encoder.encode(packet)
            var decoder = SocketPacketDecoder()
            var result = try decoder.decode(text: encoded.text)
            for attachment in encoded.attachments {
                result = try decoder.decode(binary: attachment)
            }
            var expected = packet
            expected.attachments = encoded.attachments.count
            XCTAssertEqual(result, .packet(expected), "for \(encoded.textString)")
        }
    }
}
