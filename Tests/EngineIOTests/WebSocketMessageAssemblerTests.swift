import XCTest

@testable import EngineIO
@testable import HTTPKit
@testable import Transport

final class WebSocketMessageAssemblerTests: XCTestCase {
    typealias Event = WebSocketMessageAssembler.Event

    /// A masked (client) frame.
    private func c(
        _ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true, rsv1: Bool = false,
        key: WebSocketMaskingKey = WebSocketTestFrames.rfcKey
    ) -> [UInt8] {
        WebSocketTestFrames.client(opcode, payload, fin: fin, rsv1: rsv1, key: key)
    }

    /// Feeds `bytes` to a server-role assembler and collects the events until it needs more input.
    private func events(
        _ bytes: [UInt8], max: Int = 1 << 20, assembler: WebSocketMessageAssembler? = nil
    ) throws -> [Event] {
        let assembler = assembler ?? WebSocketMessageAssembler(role: .server, maxMessageSize: max)
        var buffer = ByteBuffer(bytes: bytes)
        var events: [Event] = []
        while let event = try assembler.next(from: &buffer) {
            events.append(event)
        }
        return events
    }

    private func assertFails(
        _ bytes: [UInt8], max: Int = 1 << 20, with expected: WebSocketProtocolError, code: UInt16,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try events(bytes, max: max), file: file, line: line) { error in
            XCTAssertEqual(error as? WebSocketProtocolError, expected, file: file, line: line)
            XCTAssertEqual((error as? WebSocketProtocolError)?.closeCode, code, file: file, line: line)
        }
    }

    // MARK: Messages

    func testSingleFrameTextAndBinaryMessages() throws {
        XCTAssertEqual(
            try events(c(.text, Array("Hello".utf8)) + c(.binary, [0, 255])),
            [.text(Array("Hello".utf8)), .binary([0, 255])])
    }

    func testRFCFragmentedHelloAssemblesIntoOneMessage() throws {
        let assembler = WebSocketMessageAssembler(role: .client, maxMessageSize: 1024)
        var buffer = ByteBuffer(bytes: [0x01, 0x03, 0x48, 0x65, 0x6C])
        XCTAssertNil(try assembler.next(from: &buffer))
        XCTAssertEqual(buffer.readableBytes, 0, "a complete fragment is consumed and kept")
        XCTAssertTrue(assembler.isMessageInProgress)
        buffer.append(contentsOf: [0x80, 0x02, 0x6C, 0x6F])
        XCTAssertEqual(try assembler.next(from: &buffer), .text(Array("Hello".utf8)))
        XCTAssertFalse(assembler.isMessageInProgress)
    }

    func testControlFramesInterleaveWithFragments() throws {
        let bytes =
            c(.text, Array("fra".utf8), fin: false)
            + c(.ping, Array("p".utf8))
            + c(.continuation, Array("gme".utf8), fin: false)
            + c(.pong, [])
            + c(.continuation, Array("nted".utf8))
        XCTAssertEqual(try events(bytes), [.ping(Array("p".utf8)), .pong([]), .text(Array("fragmented".utf8))])
    }

    func testEmptyFragmentsAndEmptyMessagesAreDelivered() throws {
        let bytes =
            c(.binary, [], fin: false)
            + c(.continuation, [], fin: false)
            + c(.continuation, [])
            + c(.text, [])
        XCTAssertEqual(try events(bytes), [.binary([]), .text([])])
    }

    func testManyFragmentsOfOneByteAssemble() throws {
        let text = Array("fragmented one byte at a time: κόσμε".utf8)
        var bytes: [UInt8] = []
        for (index, byte) in text.enumerated() {
            bytes += c(index == 0 ? .text : .continuation, [byte], fin: index == text.count - 1)
        }
        XCTAssertEqual(try events(bytes), [.text(text)])
    }

    // MARK: Fragmentation errors

    func testOneByteOfTheNextFrameWaitsForTheRest() throws {
        // A read that ends one byte into the next frame (too little for a header) delivers what is whole and
        // keeps that byte; the rest of the frame completes it.
        let assembler = WebSocketMessageAssembler(role: .server, maxMessageSize: 1 << 20)
        let next = c(.text, Array("second".utf8))
        var buffer = ByteBuffer(bytes: c(.text, Array("first".utf8)) + next[..<1])
        XCTAssertEqual(try assembler.next(from: &buffer), .text(Array("first".utf8)))
        XCTAssertNil(try assembler.next(from: &buffer))
        XCTAssertEqual(buffer.readableBytes, 1)
        buffer.append(contentsOf: next[1...])
        XCTAssertEqual(try assembler.next(from: &buffer), .text(Array("second".utf8)))
        XCTAssertNil(try assembler.next(from: &buffer))
        XCTAssertEqual(buffer.readableBytes, 0)
    }

    func testContinuationWithoutStartFailsWith1002() {
        assertFails(c(.continuation, [1]), with: .unexpectedContinuation, code: 1002)
    }

    func testNewMessageDuringFragmentedMessageFailsWith1002() {
        let bytes = c(.text, [0x41], fin: false) + c(.binary, [1])
        assertFails(bytes, with: .expectedContinuation, code: 1002)
    }

    func testErrorIsStickyForLaterCalls() throws {
        let assembler = WebSocketMessageAssembler(role: .server, maxMessageSize: 1024)
        var buffer = ByteBuffer(bytes: c(.continuation, [1]))
        XCTAssertThrowsError(try assembler.next(from: &buffer))
        var fresh = ByteBuffer(bytes: c(.text, [0x41]))
        XCTAssertThrowsError(try assembler.next(from: &fresh)) {
            XCTAssertEqual($0 as? WebSocketProtocolError, .unexpectedContinuation)
        }
    }

    func testUnmaskedFrameFromClientFailsAssembler() {
        assertFails(WebSocketTestFrames.server(.text, [0x41]), with: .unmaskedFrame, code: 1002)
    }

    // MARK: UTF-8

    func testSingleFrameTextWithInvalidUTF8FailsWith1007() {
        assertFails(c(.text, [0x48, 0xC0, 0xAF]), with: .invalidUTF8, code: 1007)
    }

    func testFragmentedTextWithInvalidUTF8FailsAtFirstBadByte() throws {
        let assembler = WebSocketMessageAssembler(role: .server, maxMessageSize: 1024)
        // κόσμε then ED A0 (surrogate): the second fragment must fail before the rest of the message arrives.
        var buffer = ByteBuffer(bytes: c(.text, [0xCE, 0xBA, 0xE1, 0xBD, 0xB9], fin: false))
        XCTAssertNil(try assembler.next(from: &buffer))
        buffer.append(contentsOf: c(.continuation, [0xCF, 0x83, 0xED], fin: false))
        XCTAssertNil(try assembler.next(from: &buffer), "ED can still begin a valid character")
        buffer.append(contentsOf: c(.continuation, [0xA0, 0x80, 0x41], fin: false))
        XCTAssertThrowsError(try assembler.next(from: &buffer)) {
            XCTAssertEqual($0 as? WebSocketProtocolError, .invalidUTF8)
            XCTAssertEqual(($0 as? WebSocketProtocolError)?.closeCode, 1007)
        }
    }

    func testTextFrameArrivingInChopsFailsWhenInvalidByteArrivesBeforeFrameIsComplete() throws {
        // Autobahn 6.4.3: one text frame delivered in three chops; the second holds F4 90 (> U+10FFFF).
        let part1: [UInt8] = [0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5]
        let part2: [UInt8] = [0xF4, 0x90, 0x80, 0x80]
        let part3 = Array("edited".utf8)
        let frame = c(.text, part1 + part2 + part3)
        let headerLength = 6
        let assembler = WebSocketMessageAssembler(role: .server, maxMessageSize: 1024)
        var buffer = ByteBuffer(bytes: frame[..<(headerLength + part1.count)])
        XCTAssertNil(try assembler.next(from: &buffer))
        buffer.append(contentsOf: frame[(headerLength + part1.count)..<(headerLength + part1.count + part2.count)])
        XCTAssertThrowsError(try assembler.next(from: &buffer)) {
            XCTAssertEqual($0 as? WebSocketProtocolError, .invalidUTF8)
        }
    }

    func testValidTextTricklingInByteByByteIsDeliveredOnce() throws {
        let text = Array("κόσμε — trickled € 😀 text".utf8)
        let wire =
            c(.text, Array(text[..<10]), fin: false, key: .random())
            + c(.ping, [1], key: .random())
            + c(.continuation, Array(text[10...]), key: .random())
            + c(.text, text, key: .random())
        let assembler = WebSocketMessageAssembler(role: .server, maxMessageSize: 1024)
        var buffer = ByteBuffer()
        var received: [Event] = []
        for byte in wire {
            buffer.append(byte)
            while let event = try assembler.next(from: &buffer) {
                received.append(event)
            }
        }
        XCTAssertEqual(received, [.ping([1]), .text(text), .text(text)])
    }

    func testContinuationFrameArrivingInChopsFailsEarlyOnInvalidUTF8() throws {
        let assembler = WebSocketMessageAssembler(role: .server, maxMessageSize: 1024)
        var buffer = ByteBuffer(bytes: c(.text, Array("ok".utf8), fin: false))
        XCTAssertNil(try assembler.next(from: &buffer))
        let continuation = c(.continuation, Array("fine".utf8) + [0xC0] + Array("never seen".utf8))
        buffer.append(contentsOf: continuation[..<(6 + 4)])
        XCTAssertNil(try assembler.next(from: &buffer))
        buffer.append(contentsOf: continuation[(6 + 4)..<(6 + 5)])
        XCTAssertThrowsError(try assembler.next(from: &buffer)) {
            XCTAssertEqual($0 as? WebSocketProtocolError, .invalidUTF8)
        }
    }

    func testCharacterSplitAcrossFragmentsIsValid() throws {
        let euro: [UInt8] = [0xE2, 0x82, 0xAC]
        let bytes =
            c(.text, [euro[0]], fin: false)
            + c(.continuation, [euro[1]], fin: false)
            + c(.continuation, [euro[2]])
        XCTAssertEqual(try events(bytes), [.text(euro)])
    }

    func testTextEndingInsideCharacterFailsWith1007() {
        let bytes = c(.text, [0x41, 0xE2], fin: false) + c(.continuation, [0x82])
        assertFails(bytes, with: .invalidUTF8, code: 1007)
    }

    func testBinaryMessagesAreNotUTF8Checked() throws {
        XCTAssertEqual(try events(c(.binary, [0xFF, 0xC0])), [.binary([0xFF, 0xC0])])
    }

    // MARK: Size limit

    func testMessageOverLimitInOneFrameFailsWith1009() {
        assertFails(c(.binary, [UInt8](repeating: 1, count: 101)), max: 100, with: .messageTooBig(limit: 100), code: 1009)
    }

    func testControlFramesUpTo125BytesPassEvenWithTinyMessageLimit() throws {
        XCTAssertEqual(try events(c(.ping, [UInt8](repeating: 7, count: 125)), max: 10), [.ping([UInt8](repeating: 7, count: 125))])
        assertFails(c(.text, [UInt8](repeating: 0x41, count: 11)), max: 10, with: .messageTooBig(limit: 10), code: 1009)
    }

    func testFragmentsAddingUpOverLimitFailWith1009BeforeBufferingLastFragment() throws {
        let assembler = WebSocketMessageAssembler(role: .server, maxMessageSize: 1000)
        var buffer = ByteBuffer(bytes: c(.binary, [UInt8](repeating: 1, count: 600), fin: false))
        XCTAssertNil(try assembler.next(from: &buffer))
        // Only the header of a 500-byte continuation: 600 + 500 > 1000 is known already.
        buffer.append(contentsOf: [0x80, 0xFE, 0x01, 0xF4])
        XCTAssertThrowsError(try assembler.next(from: &buffer)) {
            XCTAssertEqual(($0 as? WebSocketProtocolError)?.closeCode, 1009)
        }
    }

    func testFragmentedMessageExactlyAtLimitIsAccepted() throws {
        let bytes =
            c(.binary, [UInt8](repeating: 1, count: 600), fin: false)
            + c(.ping, [])
            + c(.continuation, [UInt8](repeating: 2, count: 400))
        let result = try events(bytes, max: 1000)
        XCTAssertEqual(result.count, 2)
        if case .binary(let bytes) = result.last { XCTAssertEqual(bytes.count, 1000) } else { XCTFail("no message") }
    }

    func testSmallFragmentsOverLimitFailWith1009() {
        var bytes: [UInt8] = []
        for index in 0..<11 {
            bytes += c(index == 0 ? .binary : .continuation, [UInt8](repeating: 0, count: 10), fin: index == 10)
        }
        assertFails(bytes, max: 100, with: .messageTooBig(limit: 100), code: 1009)
    }

    // MARK: Close frames

    func testCloseWithoutPayloadHasNoCode() throws {
        XCTAssertEqual(try events(c(.close, [])), [.close(code: nil, reason: "")])
    }

    func testCloseWithOneBytePayloadFailsWith1002() {
        assertFails(c(.close, [0x03]), with: .invalidClosePayloadLength, code: 1002)
    }

    func testEveryAllowedCloseCodeIsAccepted() throws {
        for code: UInt16 in [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999] {
            let payload = [UInt8(code >> 8), UInt8(code & 0xFF)]
            XCTAssertEqual(try events(c(.close, payload)), [.close(code: code, reason: "")], "code \(code)")
        }
    }

    func testEveryDisallowedCloseCodeFailsWith1002() {
        for code: UInt16 in [0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999, 5000, 65535] {
            let payload = [UInt8(code >> 8), UInt8(code & 0xFF)]
            assertFails(c(.close, payload), with: .invalidCloseCode(code), code: 1002)
        }
    }

    func testCloseReasonIsDecoded() throws {
        let payload: [UInt8] = [0x03, 0xE8] + Array("going κόσμε".utf8)
        XCTAssertEqual(try events(c(.close, payload)), [.close(code: 1000, reason: "going κόσμε")])
    }

    func testCloseReasonWithInvalidUTF8FailsWith1007() {
        assertFails(c(.close, [0x03, 0xE8, 0xCE, 0xBA, 0xED, 0xA0, 0x80]), with: .invalidCloseReason, code: 1007)
    }

    func testCloseDuringFragmentedMessageIsDeliveredAndStopsReading() throws {
        let assembler = WebSocketMessageAssembler(role: .server, maxMessageSize: 1024)
        let bytes =
            c(.text, Array("frag".utf8), fin: false)
            + c(.close, [0x03, 0xE8])
        let trailing = c(.continuation, Array("ment".utf8))
        var buffer = ByteBuffer(bytes: bytes + trailing)
        XCTAssertEqual(try assembler.next(from: &buffer), .close(code: 1000, reason: ""))
        XCTAssertTrue(assembler.isClosed)
        XCTAssertNil(try assembler.next(from: &buffer))
        XCTAssertEqual(buffer.readableBytes, trailing.count, "nothing is read after a close")
    }

    // MARK: permessage-deflate

    /// A client-role assembler fed the RFC 7692 §7.2.3 server frames (unmasked).
    private func inflateEvents(_ bytes: [UInt8], noContextTakeover: Bool = false, max: Int = 1 << 20) throws -> [Event] {
        let assembler = WebSocketMessageAssembler(
            role: .client, maxMessageSize: max,
            decompressor: PerMessageDeflateDecompressor(windowBits: 15, noContextTakeover: noContextTakeover))
        return try events(bytes, assembler: assembler)
    }

    func testRFC7692CompressedHelloInOneFrame() throws {
        XCTAssertEqual(
            try inflateEvents([0xC1, 0x07, 0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]), [.text(Array("Hello".utf8))])
    }

    func testRFC7692CompressedHelloInTwoFragments() throws {
        XCTAssertEqual(
            try inflateEvents([0x41, 0x03, 0xF2, 0x48, 0xCD, 0x80, 0x04, 0xC9, 0xC9, 0x07, 0x00]),
            [.text(Array("Hello".utf8))])
    }

    func testRFC7692SecondMessageReusesSlidingWindow() throws {
        XCTAssertEqual(
            try inflateEvents([0xC1, 0x07, 0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00, 0xC1, 0x05, 0xF2, 0x00, 0x11, 0x00, 0x00]),
            [.text(Array("Hello".utf8)), .text(Array("Hello".utf8))])
    }

    func testRFC7692StoredBlockBFinalBlockAndTwoBlockMessages() throws {
        let stored: [UInt8] = [0xC1, 0x0B, 0x00, 0x05, 0x00, 0xFA, 0xFF, 0x48, 0x65, 0x6C, 0x6C, 0x6F, 0x00]
        let bfinal: [UInt8] = [0xC1, 0x08, 0xF3, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00, 0x00]
        let twoBlocks: [UInt8] = [
            0xC1, 0x0D, 0xF2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xCA, 0xC9, 0xC9, 0x07, 0x00,
        ]
        let hello = Event.text(Array("Hello".utf8))
        XCTAssertEqual(try inflateEvents(stored), [hello])
        XCTAssertEqual(try inflateEvents(bfinal), [hello])
        XCTAssertEqual(try inflateEvents(twoBlocks), [hello])
        XCTAssertEqual(try inflateEvents(bfinal + stored + twoBlocks), [hello, hello, hello])
    }

    func testRFC7692EmptyCompressedMessage() throws {
        XCTAssertEqual(try inflateEvents([0xC2, 0x01, 0x00]), [.binary([])])
    }

    func testCompressedMessagesFromClientRoundTripThroughServerAssembler() throws {
        let compressor = PerMessageDeflateCompressor()
        let assembler = WebSocketMessageAssembler(
            role: .server, maxMessageSize: 1 << 20, decompressor: PerMessageDeflateDecompressor())
        var wire: [UInt8] = []
        let messages = (0..<5).map { Array("message \($0) \(String(repeating: "abc", count: $0 * 100))".utf8) }
        for message in messages {
            let compressed = try compressor.compress(message)
            // Split into three fragments, only the first carrying RSV1.
            let third = compressed.count / 3
            wire += c(.text, Array(compressed[..<third]), fin: false, rsv1: true, key: .random())
            wire += c(.continuation, Array(compressed[third..<(2 * third)]), fin: false, key: .random())
            wire += c(.continuation, Array(compressed[(2 * third)...]), key: .random())
        }
        wire += c(.text, Array("plain".utf8), key: .random())
        XCTAssertEqual(try events(wire, assembler: assembler), messages.map { .text($0) } + [.text(Array("plain".utf8))])
    }

    func testDecompressionBombFailsWith1009() throws {
        let compressed = try PerMessageDeflateCompressor().compress([UInt8](repeating: 0, count: 1 << 20))
        XCTAssertLessThan(compressed.count, 2000)
        let assembler = WebSocketMessageAssembler(
            role: .server, maxMessageSize: 64 * 1024, decompressor: PerMessageDeflateDecompressor())
        XCTAssertThrowsError(try events(c(.binary, compressed, rsv1: true), assembler: assembler)) {
            XCTAssertEqual($0 as? WebSocketProtocolError, .messageTooBig(limit: 64 * 1024))
            XCTAssertEqual(($0 as? WebSocketProtocolError)?.closeCode, 1009)
        }
    }

    func testCompressedTextWithInvalidUTF8FailsWith1007() throws {
        let compressed = try PerMessageDeflateCompressor().compress([0x41, 0xED, 0xA0, 0x80])
        let assembler = WebSocketMessageAssembler(
            role: .server, maxMessageSize: 1024, decompressor: PerMessageDeflateDecompressor())
        XCTAssertThrowsError(try events(c(.text, compressed, rsv1: true), assembler: assembler)) {
            XCTAssertEqual($0 as? WebSocketProtocolError, .invalidUTF8)
        }
    }

    func testCorruptCompressedDataFailsWith1007() {
        let assembler = WebSocketMessageAssembler(
            role: .server, maxMessageSize: 1024, decompressor: PerMessageDeflateDecompressor())
        // 0xFF starts a block with the reserved BTYPE 11.
        XCTAssertThrowsError(try events(c(.binary, [0xFF, 0xFF, 0xFF], rsv1: true), assembler: assembler)) {
            XCTAssertEqual($0 as? WebSocketProtocolError, .invalidCompressedData)
            XCTAssertEqual(($0 as? WebSocketProtocolError)?.closeCode, 1007)
        }
    }

    func testCompressedFrameWithoutNegotiationFailsWith1002() {
        assertFails(c(.text, [0x00], rsv1: true), with: .reservedBitsSet(0x4), code: 1002)
    }

    func testConvenienceInitializerBuildsDecompressorFromParameters() throws {
        let parameters = PerMessageDeflateParameters()
        let assembler = WebSocketMessageAssembler(role: .client, maxMessageSize: 1024, permessageDeflate: parameters)
        XCTAssertEqual(try events([0xC1, 0x07, 0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00], assembler: assembler), [.text(Array("Hello".utf8))])
        let plain = WebSocketMessageAssembler(role: .client, maxMessageSize: 1024, permessageDeflate: nil)
        XCTAssertThrowsError(try events([0xC1, 0x07, 0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00], assembler: plain))
    }
}
