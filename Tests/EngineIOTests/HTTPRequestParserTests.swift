@testable import EngineIO
@testable import HTTPKit
@testable import Transport
import XCTest

final class HTTPRequestParserTests: XCTestCase {
    /// A comparable summary of parse events; consecutive body pieces are merged so results do not depend
    /// on how the input was split.
    enum Step: Equatable {
        case head(String, String, [String])
        case body(String)
        case end
    }

    private func parse(_ text: String, chunkSize: Int = .max, limits: HTTPLimits = HTTPLimits()) throws -> [Step] {
        try parse(Array(text.utf8), chunkSize: chunkSize, limits: limits).steps
    }

    private func parse(_ bytes: [UInt8], chunkSize: Int, limits: HTTPLimits) throws
        -> (steps: [Step], heads: [HTTPRequestHead], rest: ByteBuffer)
    {
        var parser = HTTPRequestParser(limits: limits)
        var buffer = ByteBuffer()
        var steps: [Step] = []
        var heads: [HTTPRequestHead] = []
        var offset = 0
        repeat {
            let end = min(bytes.count, offset + min(chunkSize, bytes.count))
            buffer.append(contentsOf: bytes[offset..<end])
            offset = end
            while let event = try parser.next(from: &buffer) {
                switch event {
                case .head(let head):
                    heads.append(head)
                    steps.append(.head(head.method, head.target, head.headers.map { "\($0.name)=\($0.value)" }))
                case .body(let piece):
                    XCTAssertFalse(piece.isEmpty)
                    if case .body(let previous) = steps.last {
                        steps[steps.count - 1] = .body(previous + String(decoding: piece, as: UTF8.self))
                    } else {
                        steps.append(.body(String(decoding: piece, as: UTF8.self)))
                    }
                case .end:
                    steps.append(.end)
                }
            }
        } while offset < bytes.count
        return (steps, heads, buffer)
    }

    private func assertStatus(_ text: String, _ status: Int, limits: HTTPLimits = HTTPLimits(),
                              file: StaticString = #filePath, line: UInt = #line) {
        for chunkSize in [Int.max, 1] {
            XCTAssertThrowsError(try parse(text, chunkSize: chunkSize, limits: limits), file: file, line: line) { error in
                XCTAssertEqual((error as? HTTPParseError)?.status, status, "\(error) for chunk size \(chunkSize)",
                               file: file, line: line)
            }
        }
    }

    // MARK: - Well-formed input

    func testGetWithoutLengthHasNoBody() throws {
        let steps = try parse("GET /index.html?a=1 HTTP/1.1\r\nHost: example.com\r\n\r\n")
        XCTAssertEqual(steps, [.head("GET", "/index.html?a=1", ["Host=example.com"]), .end])
    }

    func testHeadCarriesVersionAndTrimmedHeaderValues() throws {
        let result = try parse(Array("POST /x HTTP/1.0\r\nX-A:   spaced value \t\r\nx-b:\r\n\r\n".utf8),
                               chunkSize: .max, limits: HTTPLimits())
        let head = try XCTUnwrap(result.heads.first)
        XCTAssertEqual(head.versionMajor, 1)
        XCTAssertEqual(head.versionMinor, 0)
        XCTAssertEqual(head.headers["x-a"], "spaced value")
        XCTAssertEqual(head.headers["X-B"], "")
        XCTAssertFalse(head.keepAlive, "HTTP/1.0 defaults to close")
    }

    func testContentLengthBodyIsDelivered() throws {
        let steps = try parse("POST /p HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world")
        XCTAssertEqual(steps, [.head("POST", "/p", ["Content-Length=11"]), .body("hello world"), .end])
    }

    func testByteAtATimeGivesSameEventsAsWholeInput() throws {
        let input = "POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde"
            + "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nfoo\r\n0\r\nT: v\r\n\r\n"
            + "GET /c HTTP/1.1\r\n\r\n"
        let whole = try parse(input)
        for size in [1, 2, 3, 7, 13] {
            XCTAssertEqual(try parse(input, chunkSize: size), whole, "chunk size \(size)")
        }
        XCTAssertEqual(whole.count, 8)
    }

    func testPipelinedRequestsComeOutInOrderFromOneBuffer() throws {
        let steps = try parse("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nDELETE /3 HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
        XCTAssertEqual(steps, [
            .head("GET", "/1", []), .end,
            .head("GET", "/2", []), .end,
            .head("DELETE", "/3", ["Content-Length=0"]), .end,
        ])
    }

    func testParserConsumesOnlyTheRequestItParsed() throws {
        var parser = HTTPRequestParser()
        var buffer = ByteBuffer(string: "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n\u{81}\u{05}frame")
        guard case .head = try parser.next(from: &buffer) else { return XCTFail("expected head") }
        guard case .end = try parser.next(from: &buffer) else { return XCTFail("expected end") }
        XCTAssertEqual(String(decoding: buffer.readableArray, as: UTF8.self), "\u{81}\u{05}frame")
    }

    func testEmptyBufferAsksForMoreBytes() throws {
        var parser = HTTPRequestParser()
        var buffer = ByteBuffer(string: "GET / HT")
        XCTAssertNil(try parser.next(from: &buffer))
        XCTAssertTrue(parser.isMidMessage)
        buffer.append(string: "TP/1.1\r\n\r\n")
        XCTAssertNotNil(try parser.next(from: &buffer))
        XCTAssertNotNil(try parser.next(from: &buffer))
        XCTAssertFalse(parser.isMidMessage)
    }

    func testChunkedBodyWithExtensionsAndTrailersIsDecoded() throws {
        let input = "POST /u HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value;flag\r\nhello\r\n"
            + "6 ; quoted=\"a b\"\r\n world\r\n"
            + "A\r\n0123456789\r\n"
            + "0\r\nExpires: never\r\nX-Checksum: abc\r\n\r\n"
        for size in [Int.max, 1] {
            XCTAssertEqual(try parse(input, chunkSize: size), [
                .head("POST", "/u", ["Transfer-Encoding=chunked"]), .body("hello world0123456789"), .end,
            ])
        }
    }

    func testLeadingEmptyLinesBeforeRequestAreIgnored() throws {
        XCTAssertEqual(try parse("\r\n\r\nGET / HTTP/1.1\r\n\r\n"), [.head("GET", "/", []), .end])
    }

    func testBareLineFeedsAreAccepted() throws {
        XCTAssertEqual(try parse("GET / HTTP/1.1\nHost: h\n\n"), [.head("GET", "/", ["Host=h"]), .end])
    }

    func testAnyTokenIsAcceptedAsMethod() throws {
        XCTAssertEqual(try parse("PROPFIND /dav HTTP/1.1\r\n\r\n"), [.head("PROPFIND", "/dav", []), .end])
    }

    func testRepeatedIdenticalContentLengthIsAccepted() throws {
        XCTAssertEqual(try parse("POST / HTTP/1.1\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok"), [
            .head("POST", "/", ["Content-Length=2, 2", "Content-Length=2"]), .body("ok"), .end,
        ])
    }

    func testBodyExactlyAtLimitIsAccepted() throws {
        let limits = HTTPLimits(maxBodySize: 4)
        XCTAssertEqual(try parse("POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd", limits: limits).last, .end)
        XCTAssertEqual(try parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n",
                                 limits: limits).last, .end)
    }

    /// Targets and field values are checked eight bytes at a time: a bad byte is found at every offset
    /// (inside a word or in the tail after the last one), and good bytes at every offset pass.
    func testTargetAndValueBytesAreCheckedAtEveryOffset() throws {
        for length in 0..<20 {
            let filler = String(repeating: "a", count: length)
            for bad in ["\u{01}", "\u{7F}", "\u{80}", "\u{E9}"] {
                assertStatus("GET /\(filler)\(bad)b HTTP/1.1\r\n\r\n", 400)
            }
            for bad in ["\u{00}", "\u{01}", "\u{7F}", "\r"] {
                assertStatus("GET / HTTP/1.1\r\nA: \(filler)\(bad)c\r\n\r\n", 400)
            }
            XCTAssertEqual(try parse("GET /\(filler)?x=\(filler)~ HTTP/1.1\r\nA: \(filler)b\t\u{E9}~\r\n\r\n"),
                           [.head("GET", "/\(filler)?x=\(filler)~", ["A=\(filler)b\t\u{E9}~"]), .end])
        }
    }

    /// The common methods come out as the same strings as any other token.
    func testCommonMethodsAreParsedAsSent() throws {
        for method in ["GET", "POST", "HEAD", "OPTIONS", "PUT", "get", "GETS", "POS"] {
            XCTAssertEqual(try parse("\(method) /x HTTP/1.1\r\n\r\n"), [.head(method, "/x", []), .end])
        }
    }

    // MARK: - Rejections

    func testMalformedRequestLinesAre400() {
        assertStatus("GET\r\n\r\n", 400)
        assertStatus("GET /\r\n\r\n", 400)
        assertStatus("GET  / HTTP/1.1\r\n\r\n", 400)
        assertStatus("GET / HTTP/1.1 extra\r\n\r\n", 400)
        assertStatus("G(T / HTTP/1.1\r\n\r\n", 400)
        assertStatus("GET / http/1.1\r\n\r\n", 400)
        assertStatus("GET /a\u{01}b HTTP/1.1\r\n\r\n", 400)
        assertStatus("GET / HTTP/1.1\r\r\n\r\n", 400)
    }

    func testMalformedHeaderFieldsAre400() {
        assertStatus("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400)
        assertStatus("GET / HTTP/1.1\r\nName : value\r\n\r\n", 400)
        assertStatus("GET / HTTP/1.1\r\n: value\r\n\r\n", 400)
        assertStatus("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400)
        assertStatus("GET / HTTP/1.1\r\nA: b\u{00}c\r\n\r\n", 400)
        assertStatus("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", 400)
        assertStatus("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400)
    }

    func testBadChunkSizesAre400() {
        let prefix = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        assertStatus(prefix + "xyz\r\n", 400)
        assertStatus(prefix + "\r\n", 400)
        assertStatus(prefix + "-1\r\n", 400)
        assertStatus(prefix + "5 junk\r\nhello\r\n", 400)
        assertStatus(prefix + "3\r\nabcX\r\n", 400)
    }

    func testTransferEncodingWithContentLengthIs400() {
        assertStatus("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400)
    }

    func testConflictingOrInvalidContentLengthIs400() {
        assertStatus("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400)
        assertStatus("POST / HTTP/1.1\r\nContent-Length: 3, 4\r\n\r\nabcd", 400)
        assertStatus("POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\nabc", 400)
        assertStatus("POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", 400)
        assertStatus("POST / HTTP/1.1\r\nContent-Length: 3,,3\r\n\r\nabc", 400)
        assertStatus("POST / HTTP/1.1\r\nContent-Length: 3,\r\n\r\nabc", 400)
        assertStatus("POST / HTTP/1.1\r\ncontent-length: 3\r\nCONTENT-LENGTH: 3 x\r\n\r\nabc", 400)
    }

    func testChunkedAppliedTwiceIs400() {
        assertStatus("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400)
    }

    func testUnknownTransferEncodingIs501() {
        assertStatus("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501)
        assertStatus("POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", 501)
    }

    func testOtherHTTPVersionsAre505() {
        assertStatus("GET / HTTP/2.0\r\n\r\n", 505)
        assertStatus("GET / HTTP/1.2\r\n\r\n", 505)
        assertStatus("GET / HTTP/0.9\r\n\r\n", 505)
        assertStatus("GET / HTTP/3\r\n\r\n", 505)
    }

    func testBodyOverLimitFromContentLengthIs413BeforeAnyBodyArrives() {
        assertStatus("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", 413, limits: HTTPLimits(maxBodySize: 10))
        assertStatus("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413)
    }

    func testChunkedBodyOverLimitIs413WhileReading() {
        let limits = HTTPLimits(maxBodySize: 10)
        assertStatus("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n", 413, limits: limits)
        assertStatus("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFFFFF\r\n", 413)
    }

    func testRequestTargetOverLimitIs414() {
        let limits = HTTPLimits(maxRequestLineLength: 64)
        let long = "/" + String(repeating: "a", count: 100)
        assertStatus("GET \(long) HTTP/1.1\r\n\r\n", 414, limits: limits)
        // Also while the line is still incomplete, so a client cannot make the server buffer forever.
        assertStatus("GET \(long)", 414, limits: limits)
    }

    func testHeaderSectionOverByteLimitIs431() {
        let limits = HTTPLimits(maxHeaderBytes: 100)
        assertStatus("GET / HTTP/1.1\r\nX: \(String(repeating: "v", count: 200))\r\n\r\n", 431, limits: limits)
        assertStatus("GET / HTTP/1.1\r\nX: \(String(repeating: "v", count: 200))", 431, limits: limits)
    }

    func testTooManyHeaderFieldsIs431() {
        let fields = (0..<11).map { "X-\($0): v\r\n" }.joined()
        assertStatus("GET / HTTP/1.1\r\n\(fields)\r\n", 431, limits: HTTPLimits(maxHeaderCount: 10))
        let ok = (0..<10).map { "X-\($0): v\r\n" }.joined()
        XCTAssertNoThrow(try parse("GET / HTTP/1.1\r\n\(ok)\r\n", limits: HTTPLimits(maxHeaderCount: 10)))
    }

    func testOversizedTrailersAre431() {
        let trailer = "T: " + String(repeating: "t", count: 200) + "\r\n"
        assertStatus("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\(trailer)\r\n", 431,
                     limits: HTTPLimits(maxHeaderBytes: 100))
    }

    func testBinaryJunkIsRejectedBeforeALineEnds() throws {
        var parser = HTTPRequestParser()
        var buffer = ByteBuffer(bytes: [0x16, 0x03, 0x01, 0x02, 0x00])  // a TLS ClientHello's first bytes
        XCTAssertThrowsError(try parser.next(from: &buffer)) { error in
            XCTAssertEqual((error as? HTTPParseError)?.status, 400)
        }
    }

    func testExpectContinueIsRecognised() throws {
        let result = try parse(Array("PUT / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\nx".utf8),
                               chunkSize: .max, limits: HTTPLimits())
        XCTAssertEqual(result.heads.first?.expectsContinue, true)
        XCTAssertEqual(HTTPRequestHead(method: "PUT", target: "/").expectsContinue, false)
    }

    /// A parsed field is stored with its colon and spaces between name and value: every reader of the
    /// headers (lookups, iteration, byte walks, the wire form, copies, edits) still sees just the name and value.
    func testParsedFieldsReadBackWithoutTheirSeparators() throws {
        let text = "GET / HTTP/1.1\r\nHost:example.com\r\nX-Pad: \t  padded\t \r\nx-empty:   \r\nUpgrade: websocket\r\n\r\n"
        for chunkSize in [Int.max, 1] {
            let result = try parse(Array(text.utf8), chunkSize: chunkSize, limits: HTTPLimits())
            let headers = try XCTUnwrap(result.heads.first).headers
            let expected = [("Host", "example.com"), ("X-Pad", "padded"), ("x-empty", ""), ("Upgrade", "websocket")]
            XCTAssertEqual(headers.fields.map { "\($0.name)=\($0.value)" }, expected.map { "\($0.0)=\($0.1)" })
            XCTAssertEqual(headers["x-pad"], "padded")
            XCTAssertEqual(headers[.host], "example.com")
            XCTAssertTrue(headers.hasToken("websocket", in: .upgrade))
            var walked: [String] = []
            headers.forEachField { name, value, _ in
                walked.append(String(decoding: name, as: UTF8.self) + "=" + String(decoding: value, as: UTF8.self))
            }
            XCTAssertEqual(walked, expected.map { "\($0.0)=\($0.1)" })
            XCTAssertEqual(headers.compacted().fields.map(\.value), expected.map(\.1))
            var wire: [UInt8] = []
            _ = headers.appendWireFields(into: &wire)
            XCTAssertEqual(String(decoding: wire, as: UTF8.self),
                           "Host: example.com\r\nX-Pad: padded\r\nx-empty: \r\nUpgrade: websocket\r\n")
            var edited = headers
            edited.set("X-Pad", "new")
            edited.remove("host")
            XCTAssertEqual(edited.fields.map { "\($0.name)=\($0.value)" }, ["x-empty=", "Upgrade=websocket", "X-Pad=new"])
        }
    }

    func testParserStaysFailedAfterAnError() {
        var parser = HTTPRequestParser()
        var buffer = ByteBuffer(string: "BAD\r\nGET / HTTP/1.1\r\n\r\n")
        XCTAssertThrowsError(try parser.next(from: &buffer))
        XCTAssertThrowsError(try parser.next(from: &buffer)) { error in
            XCTAssertEqual((error as? HTTPParseError)?.status, 400)
        }
    }
}
