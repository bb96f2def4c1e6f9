import XCTest

@testable import HTTPKit
@testable import Transport

/// `WebSocketMessageAssembler.nextTextInPlace(in:)`: a whole text frame unmasked where it lies in the read
/// buffer and handed over as a slice of it; everything else is left, untouched, to `next(from:)`.
final class WebSocketInPlaceTextTests: XCTestCase {
    private func c(_ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true, rsv1: Bool = false) -> [UInt8] {
        WebSocketTestFrames.client(opcode, payload, fin: fin, rsv1: rsv1, key: .random())
    }

    private func assembler(max: Int = 1024) -> WebSocketMessageAssembler {
        WebSocketMessageAssembler(role: .server, maxMessageSize: max)
    }

    /// Reads the text frame at the front in place; returns its payload and consumes the frame.
    private func readInPlace(_ assembler: WebSocketMessageAssembler, _ buffer: inout ByteBuffer) throws -> ArraySlice<UInt8>? {
        guard let text = try assembler.nextTextInPlace(in: &buffer) else { return nil }
        let payload = buffer.readableView[text.payload]
        buffer.moveReaderIndex(forwardBy: text.frameLength)
        return payload
    }

    func testWholeMaskedTextFrameIsUnmaskedInPlace() throws {
        let assembler = self.assembler()
        var buffer = ByteBuffer(bytes: c(.text, Array("héllo".utf8)) + c(.binary, [1, 2]))
        let before = buffer.readableBytes
        let text = try XCTUnwrap(try assembler.nextTextInPlace(in: &buffer))
        XCTAssertEqual(Array(buffer.readableView[text.payload]), Array("héllo".utf8))
        XCTAssertEqual(text.frameLength, 2 + 4 + 6)
        XCTAssertEqual(buffer.readableBytes, before, "the frame stays in the buffer until the caller consumes it")
        buffer.moveReaderIndex(forwardBy: text.frameLength)
        XCTAssertNil(try assembler.nextTextInPlace(in: &buffer), "a binary frame is left to next(from:)")
        XCTAssertEqual(try assembler.next(from: &buffer), .binary([1, 2]))
    }

    func testFramesItDoesNotTakeAreLeftUnchanged() throws {
        let assembler = self.assembler()
        let fragmented = c(.text, Array("frag".utf8), fin: false) + c(.continuation, Array("ment".utf8))
        for wire in [fragmented, c(.ping, [7]), c(.text, Array("cut short".utf8)).dropLast(1).map { $0 }] {
            var buffer = ByteBuffer(bytes: wire)
            XCTAssertNil(try assembler.nextTextInPlace(in: &buffer))
            XCTAssertEqual(buffer.readableArray, wire)
        }
        var buffer = ByteBuffer(bytes: fragmented)
        XCTAssertEqual(try assembler.next(from: &buffer), .text(Array("fragment".utf8)))
    }

    func testProtocolErrorsAreLeftToNext() throws {
        let assembler = self.assembler(max: 200)
        var buffer = ByteBuffer(bytes: c(.text, Array(repeating: 0x61, count: 201)))
        XCTAssertNil(try assembler.nextTextInPlace(in: &buffer))
        XCTAssertThrowsError(try assembler.next(from: &buffer)) {
            XCTAssertEqual($0 as? WebSocketProtocolError, .messageTooBig(limit: 200))
        }
    }

    func testInvalidUTF8FailsAndTheFailureSticks() throws {
        let assembler = self.assembler()
        var buffer = ByteBuffer(bytes: c(.text, [0x61, 0xC0, 0x62]) + c(.text, Array("ok".utf8)))
        XCTAssertThrowsError(try assembler.nextTextInPlace(in: &buffer)) {
            XCTAssertEqual($0 as? WebSocketProtocolError, .invalidUTF8)
        }
        XCTAssertThrowsError(try assembler.next(from: &buffer)) {
            XCTAssertEqual($0 as? WebSocketProtocolError, .invalidUTF8)
        }
    }

    /// The ASCII test made while unmasking lets only all-ASCII payloads skip the validator: a byte of 0x80
    /// or above anywhere (in a whole eight-byte word or in the tail) still goes through it.
    func testUnmaskingSkipsTheValidatorOnlyForASCII() throws {
        let ascii = Array("[\"echo\",1700000000000,\"xxxxxxxxxxxxxxxx\"]".utf8)
        for length in [1, 7, 8, 9, 16, 17, ascii.count] {
            var buffer = ByteBuffer(bytes: c(.text, Array(ascii.prefix(length))))
            XCTAssertEqual(try readInPlace(self.assembler(), &buffer).map(Array.init), Array(ascii.prefix(length)))
        }
        // An invalid byte in a word, in the tail, and a character cut short at the end: each one fails.
        for bad in [[0x61, 0xFF] + Array(repeating: 0x61, count: 10), Array(repeating: 0x61, count: 9) + [0x80],
                    Array(repeating: 0x61, count: 16) + [0xE2, 0x82]] as [[UInt8]] {
            var buffer = ByteBuffer(bytes: c(.text, bad))
            XCTAssertThrowsError(try self.assembler().nextTextInPlace(in: &buffer)) {
                XCTAssertEqual($0 as? WebSocketProtocolError, .invalidUTF8)
            }
        }
        let key = WebSocketMaskingKey(0x80, 0x01, 0x80, 0x02)
        var masked: [UInt8] = Array("abcdefghijk".utf8).enumerated().map { $0.element ^ key.byte(at: $0.offset) }
        let reported = masked.withUnsafeMutableBytes { key.applyReportingASCII(to: $0) }
        XCTAssertTrue(reported, "the key's high bits do not count, only the unmasked bytes'")
        XCTAssertEqual(masked, Array("abcdefghijk".utf8))
    }

    /// Bytes checked while the frame was incomplete (by `next(from:)`) are not checked twice, and a
    /// character split across the two reads is still valid.
    func testFrameCompletedAfterPrevalidationIsReadInPlace() throws {
        let text = Array("κόσμε € 😀".utf8)
        let wire = c(.text, text)
        let assembler = self.assembler()
        var buffer = ByteBuffer(bytes: wire[..<(6 + 3)])  // header, mask key, then half of "κό"
        XCTAssertNil(try assembler.nextTextInPlace(in: &buffer))
        XCTAssertNil(try assembler.next(from: &buffer))
        buffer.append(contentsOf: wire[(6 + 3)...])
        XCTAssertEqual(try readInPlace(assembler, &buffer).map(Array.init), text)
        XCTAssertEqual(buffer.readableBytes, 0)
    }

    /// A reader that keeps the slice keeps its bytes: unmasking the next frame of the same buffer copies
    /// the storage first.
    func testKeptSliceSurvivesTheNextFrame() throws {
        let assembler = self.assembler()
        var buffer = ByteBuffer(bytes: c(.text, Array("first".utf8)) + c(.text, Array("second".utf8)))
        let first = try XCTUnwrap(try readInPlace(assembler, &buffer))
        let second = try XCTUnwrap(try readInPlace(assembler, &buffer))
        buffer.append(contentsOf: c(.text, Array("third".utf8)))
        let third = try XCTUnwrap(try readInPlace(assembler, &buffer))
        XCTAssertEqual(String(decoding: first, as: UTF8.self), "first")
        XCTAssertEqual(String(decoding: second, as: UTF8.self), "second")
        XCTAssertEqual(String(decoding: third, as: UTF8.self), "third")
    }
}
