import EngineIO
import HTTPKit
import Transport
import XCTest

/// The HTTP/1.1 client codec's guarantees: what the request encoder refuses to let through, and how the
/// response parser reads names, values, repeats and splits.
final class HTTPClientCodecTests: XCTestCase {
    private func encode(_ request: HTTPClientRequest, host: String = "h:1") -> String {
        var out: [UInt8] = []
        request.encode(host: host, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private func parse(_ text: String, limits: HTTPClientLimits = HTTPClientLimits()) throws -> HTTPClientResponse? {
        var parser = HTTPResponseParser(limits: limits)
        var buffer = ByteBuffer(string: text)
        return try parser.parse(&buffer)
    }

    private func assertInvalid(_ text: String, _ reason: String, limits: HTTPClientLimits = HTTPClientLimits(),
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try self.parse(text, limits: limits), file: file, line: line) {
            XCTAssertEqual($0 as? HTTPClientError, .invalidResponse(reason), file: file, line: line)
        }
    }

    // MARK: Requests

    func testRequestDropsLineBreaksFromHeaderNamesAndValues() {
        var headers = HTTPHeaders()
        headers.add("X-A\r\nInjected", "one\rtwo\nthree\r\nFour: 4")
        headers.add("X-Clean", "caf\u{e9}")
        XCTAssertEqual(
            self.encode(HTTPClientRequest(target: "/", headers: headers)),
            "GET / HTTP/1.1\r\nHost: h:1\r\nX-AInjected: onetwothreeFour: 4\r\nX-Clean: caf\u{e9}\r\n\r\n")
    }

    func testRequestAddsHostAndContentLengthOnlyWhenAbsent() {
        XCTAssertEqual(self.encode(HTTPClientRequest(target: "")), "GET / HTTP/1.1\r\nHost: h:1\r\n\r\n")
        XCTAssertEqual(self.encode(HTTPClientRequest(method: "post", target: "/x")),
                       "post /x HTTP/1.1\r\nHost: h:1\r\nContent-Length: 0\r\n\r\n")
        XCTAssertEqual(self.encode(HTTPClientRequest(method: "PATCH", target: "/x", body: Array("12345678901".utf8))),
                       "PATCH /x HTTP/1.1\r\nHost: h:1\r\nContent-Length: 11\r\n\r\n12345678901")
        let given: HTTPHeaders = ["host": "other", "content-length": "3"]
        XCTAssertEqual(self.encode(HTTPClientRequest(method: "PUT", target: "/x", headers: given, body: Array("abc".utf8))),
                       "PUT /x HTTP/1.1\r\nhost: other\r\ncontent-length: 3\r\n\r\nabc")
    }

    // MARK: Responses

    func testHeaderNamesKeepTheirCaseAndAreFoundWithoutIt() throws {
        let response = try XCTUnwrap(self.parse("HTTP/1.1 200 OK\r\ncOnTeNt-LeNgTh: 0\r\nX-Mixed: Value\r\n\r\n"))
        XCTAssertEqual(response.headers.fields.map(\.name), ["cOnTeNt-LeNgTh", "X-Mixed"])
        XCTAssertEqual(response.headers["x-mixed"], "Value")
        XCTAssertEqual(response.body, [])
    }

    func testDuplicateHeadersAreKeptInOrder() throws {
        let response = try XCTUnwrap(self.parse(
            "HTTP/1.1 204 No Content\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n"))
        XCTAssertEqual(response.headers.values("Set-Cookie"), ["a=1", "b=2"])
        XCTAssertFalse(response.keepAlive, "any Connection field listing close ends the connection")
    }

    func testValuesAreTrimmedOfSpacesAndTabsOnly() throws {
        let response = try XCTUnwrap(self.parse(
            "HTTP/1.1 204 No Content\r\nA: \t x  y \t\r\nB:\r\nC:caf\u{e9} \r\nD: \u{301}x\r\n\r\n"))
        XCTAssertEqual(response.headers.fields.map(\.value), ["x  y", "", "caf\u{e9}", " \u{301}x"],
                       "a space that a combining mark joins is not trimmed (trimming works on Characters)")
    }

    func testObsoleteLineFoldingAndNamelessLinesAreRefused() {
        self.assertInvalid("HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\n\r\n", "bad header line")
        self.assertInvalid("HTTP/1.1 200 OK\r\n: no name\r\n\r\n", "bad header line")
    }

    func testStatusLineForms() throws {
        XCTAssertEqual(try self.parse("HTTP/1.1 304 Not  Modified \r\n\r\n")?.reason, "Not  Modified ")
        XCTAssertEqual(try self.parse("\r\nHTTP/1.0 204\n\n")?.reason, "", "a leading empty line and bare LFs pass")
        XCTAssertEqual(try self.parse("HTTP/1.0 204\n\n")?.keepAlive, false)
        for bad in ["HTTP/1.1 20 OK", "HTTP/1.1 099 Low", "HTTP/1.1 +99 Sign", "HTTP/1.x 200 OK", "HTTP/1.1  200 OK",
                    "HTTP/2.0 200 OK", "HTTP/1.1"] {
            self.assertInvalid(bad + "\r\n\r\n", "bad status line")
        }
        self.assertInvalid("\r\n\r\n", "empty response head")
    }

    func testHeaderLimitsAreKept() throws {
        let three = "HTTP/1.1 204 No Content\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"
        XCTAssertEqual(try self.parse(three, limits: HTTPClientLimits(maxHeaderCount: 3))?.headers.count, 3)
        self.assertInvalid(three, "too many headers", limits: HTTPClientLimits(maxHeaderCount: 2))
        self.assertInvalid(three, "response head too large", limits: HTTPClientLimits(maxHeaderBytes: three.utf8.count - 1))
    }

    func testChunkedResponseSplitAtEveryByte() throws {
        let bytes = Array(("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;ext=1\r\nhello\r\n6 \r\n world\r\n0\r\nX-Trailer: yes\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n").utf8)
        for split in 1..<bytes.count {
            var parser = HTTPResponseParser()
            var buffer = ByteBuffer()
            var responses: [HTTPClientResponse] = []
            for part in [bytes[..<split], bytes[split...]] {
                buffer.append(contentsOf: part)
                while let response = try parser.parse(&buffer) { responses.append(response) }
            }
            XCTAssertEqual(responses.map(\.status), [200, 204], "split \(split)")
            XCTAssertEqual(responses.first?.body, Array("hello world".utf8), "split \(split)")
            XCTAssertTrue(parser.isIdle)
        }
    }

    func testMalformedChunkFramingIsRefused() {
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        self.assertInvalid(head + "2\r\nokX\r\n", "chunk not followed by CRLF")
        self.assertInvalid(head + ";\r\n", "bad chunk size")
        self.assertInvalid(head + String(repeating: "0", count: 1030) + "\r\n", "line too long")
    }
}
