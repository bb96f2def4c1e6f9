import XCTest
@testable import SocketIO

final class SocketPacketDecoderTests: XCTestCase {
    private func decodePacket(
        _ text: String,
        _ attachments: [[UInt8]] = [],
        decoder: SocketPacketDecoder = SocketPacketDecoder(),
        file: StaticString = #filePath,
        line: UInt = #line
    ) -> SocketPacket? {
        var decoder = decoder
        do {
            var result = try decoder.decode(text: text)
            for attachment in attachments {
                result = try decoder.decode(binary: attachment)
            }
            guard case let .packet(packet) = result else {
                XCTFail("incomplete: \(result)", file: file, line: line)
                return nil
            }
            return packet
        } catch {
            XCTFail("unexpected error \(error) for \(text)", file: file, line: line)
            return nil
        }
    }

    private func assertRejects(
        _ text: String,
        _ expected: SocketProtocolError,
        decoder: SocketPacketDecoder = SocketPacketDecoder(),
        file: StaticString = #filePath,
        line: UInt = #line
    ) {
        var decoder = decoder
        do {
            let result = try decoder.decode(text: text)
            XCTFail("expected \(expected) for \(text), got \(result)", file: file, line: line)
        } catch {
            XCTAssertEqual(error, expected, "for \(text)", file: file, line: line)
        }
        XCTAssertFalse(decoder.isAwaitingAttachments, file: file, line: line)
    }

    private func assertInvalidJSON(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        var decoder = SocketPacketDecoder()
        do {
            let result = try decoder.decode(text: text)
            XCTFail("expected invalid JSON for \(text), got \(result)", file: file, line: line)
        } catch {
            guard case .invalidJSON = error else {
                return XCTFail("expected invalidJSON for \(text), got \(error)", file: file, line: line)
            }
        }
    }

    // MARK: - Well-formed packets

    func testDecodesSpecificationExamples() {
        XCTAssertEqual(decodePacket("0"), .connect())
        XCTAssertEqual(decodePacket(#"0{"sid":"abc"}"#), .connect(data: ["sid": "abc"]))
        XCTAssertEqual(decodePacket("0/admin,"), .connect(namespace: "/admin"))
        XCTAssertEqual(decodePacket(#"0/admin,{"token":"123"}"#), .connect(namespace: "/admin", data: ["token": "123"]))
        XCTAssertEqual(decodePacket(#"4{"message":"Not authorized"}"#), .connectError(message: "Not authorized"))
        XCTAssertEqual(decodePacket(#"2["foo"]"#), .event("foo"))
        XCTAssertEqual(decodePacket(#"2/admin,["bar"]"#), .event("bar", namespace: "/admin"))
        XCTAssertEqual(decodePacket(#"212["foo"]"#), .event("foo", id: 12))
        XCTAssertEqual(decodePacket(#"2/admin,13["foo"]"#), .event("foo", namespace: "/admin", id: 13))
        XCTAssertEqual(decodePacket("312[]"), .ack(id: 12))
        XCTAssertEqual(decodePacket(#"3/admin,13["bar"]"#), .ack(id: 13, ["bar"], namespace: "/admin"))
        XCTAssertEqual(decodePacket("1"), .disconnect())
        XCTAssertEqual(decodePacket("1/admin,"), .disconnect(namespace: "/admin"))
    }

    func testDecodesBinaryEventAfterItsAttachments() throws {
        var decoder = SocketPacketDecoder()
        let header = try decoder.decode(text: #"52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#)
        XCTAssertEqual(header, .awaitingAttachments(remaining: 2))
        XCTAssertTrue(decoder.isAwaitingAttachments)
        XCTAssertEqual(try decoder.decode(binary: [1, 2]), .awaitingAttachments(remaining: 1))
        XCTAssertEqual(decoder.remainingAttachments, 1)
        let result = try decoder.decode(binary: [3, 4])
        var expected = SocketPacket.event("baz", [.binary([1, 2]), .binary([3, 4])], namespace: "/admin")
        expected.attachments = 2
        XCTAssertEqual(result, .packet(expected))
        XCTAssertFalse(decoder.isAwaitingAttachments)
        // The decoder is ready for the next packet.
        XCTAssertEqual(try decoder.decode(text: #"2["next"]"#), .packet(.event("next")))
    }

    func testBinaryPacketsDecodeToPlainTypes() {
        let event = decodePacket(#"51-14["foo",{"_placeholder":true,"num":0}]"#, [[9]])
        XCTAssertEqual(event?.type, .event)
        XCTAssertEqual(event?.id, 14)
        XCTAssertEqual(event?.attachments, 1)
        let ack = decodePacket(#"61-15["bar",{"_placeholder":true,"num":0}]"#, [[9]])
        XCTAssertEqual(ack?.type, .ack)
        XCTAssertEqual(ack?.data, ["bar", .binary([9])])
    }

    func testPlaceholdersMayRepeatAndIgnoreExtraKeys() {
        let packet = decodePacket(#"52-["x",{"_placeholder":true,"num":1,"extra":0},{"_placeholder":true,"num":1}]"#, [[1], [2]])
        XCTAssertEqual(packet?.data, ["x", .binary([2]), .binary([2])])
    }

    func testAcceptsUnreferencedAttachmentLikeTheReference() {
        XCTAssertEqual(decodePacket(#"51-["hello"]"#, [[1]])?.data, ["hello"])
    }

    func testPlaceholderMarkerMustBeExactlyTrue() {
        let packet = decodePacket(#"51-["x",{"_placeholder":"true","num":0},{"_placeholder":true,"num":0}]"#, [[7]])
        XCTAssertEqual(packet?.data, ["x", ["_placeholder": "true", "num": 0], .binary([7])])
    }

    func testLeavesPlaceholdersAloneInNonBinaryPackets() {
        XCTAssertEqual(
            decodePacket(#"2["x",{"_placeholder":true,"num":0}]"#)?.data,
            ["x", ["_placeholder": true, "num": 0]]
        )
    }

    func testAcceptsNumericEventName() {
        XCTAssertEqual(decodePacket(#"2[1,"a",{}]"#)?.data, [1, "a", .object(JSONObject())])
    }

    func testAcceptsConnectErrorAsPlainString() {
        XCTAssertEqual(decodePacket(#"4"Unauthorized""#)?.data, "Unauthorized")
    }

    func testAcceptsNamespaceWithoutTrailingComma() {
        XCTAssertEqual(decodePacket("0/admin"), .connect(namespace: "/admin"))
    }

    func testAcceptsSpacedJSONAsOtherImplementationsMaySendIt() {
        XCTAssertEqual(decodePacket(#"2[ "a" , {"b": 1} ]"#), .event("a", [["b": 1]]))
    }

    func testDecodesFromStringAndBytesAlike() throws {
        let text = #"2/chat,5["msg",{"t":"é"}]"#
        var a = SocketPacketDecoder()
        var b = SocketPacketDecoder(keepsRawData: false)
        let fromBytes = try a.decode(text: Array(text.utf8))
        let fromString = try b.decode(text: text)
        XCTAssertEqual(fromBytes, fromString)
        XCTAssertEqual(fromBytes, .packet(.event("msg", [["t": "é"]], namespace: "/chat", id: 5)))
    }

    func testAllowsReservedEventNamesWhenConfigured() {
        let decoder = SocketPacketDecoder(rejectsReservedEventNames: false)
        XCTAssertEqual(decodePacket(#"2["connect"]"#, decoder: decoder), .event("connect"))
    }

    // MARK: - Raw payload text

    func testKeepsRawArgumentsOfEvents() throws {
        let packet = decodePacket(#"2/room,3["chat", {"text":"hi"} ,2]"#)
        let raw = try XCTUnwrap(packet?.rawData)
        XCTAssertEqual(String(decoding: raw.bytes, as: UTF8.self), #"["chat", {"text":"hi"} ,2]"#)
        XCTAssertEqual(raw.count, 3)
        XCTAssertEqual(raw.element(0).map { String(decoding: $0, as: UTF8.self) }, #""chat""#)
        XCTAssertEqual(String(decoding: raw.eventArguments, as: UTF8.self), #"{"text":"hi"} ,2"#)
        XCTAssertNil(raw.element(3))
    }

    func testRawArgumentsCanBeForwardedUnchanged() throws {
        let incoming = try XCTUnwrap(decodePacket(#"2["chat",{"text":"hi","n":[1,2.50]},"x"]"#))
        let raw = try XCTUnwrap(incoming.rawData)
        let forwarded = try SocketPacketEncoder().encodeEvent(namespace: "/room", name: "relay", rawArguments: raw.eventArguments)
        XCTAssertEqual(String(decoding: forwarded, as: UTF8.self), #"2/room,["relay",{"text":"hi","n":[1,2.50]},"x"]"#)
        XCTAssertEqual(
            decodePacket(String(decoding: forwarded, as: UTF8.self))?.arguments,
            incoming.arguments
        )
    }

    func testRawArgumentsOfEventWithoutArgumentsAreEmpty() throws {
        let raw = try XCTUnwrap(decodePacket(#"2["ping"]"#)?.rawData)
        XCTAssertTrue(raw.eventArguments.isEmpty)
    }

    func testKeepsRawArgumentsOfAcks() throws {
        let raw = try XCTUnwrap(decodePacket(#"35["a",1]"#)?.rawData)
        XCTAssertEqual(String(decoding: raw.ackArguments, as: UTF8.self), #""a",1"#)
        let empty = try XCTUnwrap(decodePacket("35[]")?.rawData)
        XCTAssertTrue(empty.ackArguments.isEmpty)
    }

    func testRawDataOfBinaryPacketsKeepsPlaceholders() throws {
        let packet = decodePacket(#"51-["up",{"_placeholder":true,"num":0}]"#, [[1]])
        let raw = try XCTUnwrap(packet?.rawData)
        XCTAssertEqual(String(decoding: raw.eventArguments, as: UTF8.self), #"{"_placeholder":true,"num":0}"#)
    }

    func testRawDataOnlyForEventsAndAcksAndWhenEnabled() {
        XCTAssertNil(decodePacket(#"0{"a":1}"#)?.rawData)
        XCTAssertNil(decodePacket(#"2["a"]"#, decoder: SocketPacketDecoder(keepsRawData: false))?.rawData)
    }

    func testChangingDataDiscardsRawData() {
        var packet = decodePacket(#"2["a",1]"#)
        XCTAssertNotNil(packet?.rawData)
        packet?.data = ["b"]
        XCTAssertNil(packet?.rawData)
    }

    // MARK: - Malformed packets

    func testRejectsEmptyPacket() {
        assertRejects("", .emptyPacket)
    }

    func testRejectsUnknownPacketType() {
        assertRejects("999", .invalidPacketType(0x39))
        assertRejects("7", .invalidPacketType(0x37))
        assertRejects(#"x["a"]"#, .invalidPacketType(0x78))
        assertRejects(#"/2["a"]"#, .invalidPacketType(0x2F))
    }

    func testRejectsGarbageAfterType() {
        assertInvalidJSON("2x")
        assertInvalidJSON("1garbage")
        assertInvalidJSON("0 junk")
    }

    func testRejectsNamespaceNotStartingWithSlash() {
        // Without a leading slash the text is taken as payload, which is not JSON.
        assertInvalidJSON(#"2admin,["a"]"#)
        assertInvalidJSON("0admin,")
    }

    func testRejectsBadAckId() {
        assertRejects(#"299999999999999999999["a"]"#, .invalidAckId)
        assertInvalidJSON(#"21a["x"]"#)
        assertInvalidJSON(#"2/admin,1.5["x"]"#)
    }

    func testRejectsEventDataThatIsNotANonEmptyArray() {
        assertRejects("2/admin,{}", .invalidPayload(.event))
        assertRejects(#"2"invalid""#, .invalidPayload(.event))
        assertRejects("2[]", .invalidPayload(.event))
        assertRejects("2", .invalidPayload(.event))
        assertRejects("2/admin,", .invalidPayload(.event))
        assertRejects("212", .invalidPayload(.event))
    }

    func testRejectsEventNameThatIsNotStringOrNumber() {
        assertRejects(#"2[{"toString":"foo"}]"#, .invalidPayload(.event))
        assertRejects(#"2[true,"foo"]"#, .invalidPayload(.event))
        assertRejects(#"2[null,"bar"]"#, .invalidPayload(.event))
        assertRejects(#"2[["a"]]"#, .invalidPayload(.event))
    }

    func testRejectsReservedEventNames() {
        assertRejects(#"2["connect"]"#, .reservedEventName("connect"))
        assertRejects(#"2["disconnect","123"]"#, .reservedEventName("disconnect"))
        assertRejects(#"2["disconnecting"]"#, .reservedEventName("disconnecting"))
        assertRejects(#"2["newListener"]"#, .reservedEventName("newListener"))
    }

    func testRejectsInvalidConnectPayload() {
        assertRejects(#"0/admin,"invalid""#, .invalidPayload(.connect))
        assertRejects("0[]", .invalidPayload(.connect))
        assertRejects("0null", .invalidPayload(.connect))
    }

    func testRejectsDisconnectWithPayload() {
        assertRejects("1/admin,{}", .invalidPayload(.disconnect))
        assertRejects("1null", .invalidPayload(.disconnect))
    }

    func testRejectsInvalidConnectErrorPayload() {
        assertRejects("4", .invalidPayload(.connectError))
        assertRejects("4[]", .invalidPayload(.connectError))
        assertRejects("4/admin,1", .invalidPayload(.connectError))
    }

    func testRejectsAckDataThatIsNotAnArray() {
        assertRejects("31{}", .invalidPayload(.ack))
        assertRejects("31", .invalidPayload(.ack))
        assertRejects(#"3"a""#, .invalidPayload(.ack))
    }

    func testRejectsBadJSON() {
        assertInvalidJSON(#"442["some","data""#)
        assertInvalidJSON(#"2/admin,"invalid"#)
        assertInvalidJSON(#"2["a",]"#)
        assertInvalidJSON(#"2["a"]x"#)
        assertInvalidJSON(#"2['a']"#)
    }

    func testReportsJSONErrorOffsetWithinTheWholePacket() {
        var decoder = SocketPacketDecoder()
        do {
            _ = try decoder.decode(text: #"2/a,7["x",?]"#)
            XCTFail("expected error")
        } catch {
            XCTAssertEqual(error, .invalidJSON(JSONParseError(.unexpectedCharacter(0x3F), offset: 10)))
        }
    }

    func testRejectsTooDeepJSON() {
        let deep = "2[\"a\"," + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "]"
        assertInvalidJSON(deep)
    }

    func testRejectsMissingOrZeroAttachmentCount() {
        assertRejects("5", .invalidAttachmentCount)
        assertRejects("51", .invalidAttachmentCount)
        assertRejects(#"51["a"]"#, .invalidAttachmentCount)
        assertRejects("50-", .invalidAttachmentCount)
        assertRejects(#"50-["a"]"#, .invalidAttachmentCount)
        assertRejects("5a-", .invalidAttachmentCount)
        assertRejects("51.23-", .invalidAttachmentCount)
        assertRejects(#"5-["a"]"#, .invalidAttachmentCount)
        assertRejects(#"6-1[]"#, .invalidAttachmentCount)
    }

    func testRejectsTooManyAttachments() {
        let limited = SocketPacketDecoder(maxAttachments: 2)
        assertRejects(
            #"53-["hello",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]"#,
            .tooManyAttachments(count: 3, limit: 2),
            decoder: limited
        )
        assertRejects(#"511-["a"]"#, .tooManyAttachments(count: 11, limit: 10))
        assertRejects(#"599999999999999999999-["a"]"#, .tooManyAttachments(count: Int(Int32.max), limit: 10))
    }

    func testRejectsBinaryWhenNoneIsAwaited() {
        var decoder = SocketPacketDecoder()
        XCTAssertThrowsError(try decoder.decode(binary: [1, 2, 3])) { error in
            XCTAssertEqual(error as? SocketProtocolError, .unexpectedBinaryAttachment)
        }
        // After a completed binary packet, an extra buffer is unexpected too.
        XCTAssertNoThrow(try decoder.decode(text: #"51-["a",{"_placeholder":true,"num":0}]"#))
        XCTAssertNoThrow(try decoder.decode(binary: [1]))
        XCTAssertThrowsError(try decoder.decode(binary: [2])) { error in
            XCTAssertEqual(error as? SocketProtocolError, .unexpectedBinaryAttachment)
        }
    }

    func testRejectsTextWhileAttachmentsAreDue() throws {
        var decoder = SocketPacketDecoder()
        _ = try decoder.decode(text: #"51-["hello",{"_placeholder":true,"num":0}]"#)
        XCTAssertThrowsError(try decoder.decode(text: #"2["hello"]"#)) { error in
            XCTAssertEqual(error as? SocketProtocolError, .unexpectedTextPacket)
        }
        // The half-built packet is dropped; decoding can resume.
        XCTAssertFalse(decoder.isAwaitingAttachments)
        XCTAssertEqual(try decoder.decode(text: #"2["hello"]"#), .packet(.event("hello")))
    }

    func testRejectsPlaceholderNumOutOfRange() {
        assertRejects(#"51-["hello",{"_placeholder":true,"num":1}]"#, .invalidPlaceholder)
        assertRejects(#"51-["hello",{"_placeholder":true,"num":-1}]"#, .invalidPlaceholder)
    }

    func testRejectsPlaceholderWithInvalidNum() {
        assertRejects(#"51-["hello",{"_placeholder":true,"num":"splice"}]"#, .invalidPlaceholder)
        assertRejects(#"51-["hello",{"_placeholder":true}]"#, .invalidPlaceholder)
        assertRejects(#"51-["hello",{"_placeholder":true,"num":0.5}]"#, .invalidPlaceholder)
        assertRejects(#"51-["hello",{"_placeholder":true,"num":null}]"#, .invalidPlaceholder)
        assertRejects(#"61-1[{"a":[{"_placeholder":true,"num":"0"}]}]"#, .invalidPlaceholder)
    }

    func testResetDropsPendingPacket() throws {
        var decoder = SocketPacketDecoder()
        _ = try decoder.decode(text: #"52-["a",{"_placeholder":true,"num":0}]"#)
        _ = try decoder.decode(binary: [1])
        decoder.reset()
        XCTAssertFalse(decoder.isAwaitingAttachments)
        XCTAssertEqual(decoder.remainingAttachments, 0)
        XCTAssertEqual(try decoder.decode(text: "1"), .packet(.disconnect()))
    }

    func testRecoversAfterAnError() throws {
        var decoder = SocketPacketDecoder()
        XCTAssertThrowsError(try decoder.decode(text: "2[]"))
        XCTAssertEqual(try decoder.decode(text: #"2["ok"]"#), .packet(.event("ok")))
    }
}
