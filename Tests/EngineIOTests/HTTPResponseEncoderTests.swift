@testable import EngineIO
@testable import HTTPKit
import XCTest

final class HTTPResponseEncoderTests: XCTestCase {
    /// 1994-11-06 08:49:37 UTC, the RFC's example date.
    private let fixedCache = HTTPDateCache(clock: { 784_111_777 })

    private func encode(_ response: HTTPResponse, contentLength: Int? = nil, keepAlive: Bool = true) -> String {
        var out: [UInt8] = []
        HTTPResponseEncoder(dateCache: fixedCache).encodeHead(
            response, contentLength: contentLength ?? HTTPResponseEncoder.bodyLength(of: response),
            keepAlive: keepAlive, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    func testHeadHasStatusLineHeadersLengthDateAndConnection() {
        let text = encode(HTTPResponse(status: 200, headers: ["Content-Type": "text/plain"], body: Array("hi".utf8)))
        XCTAssertEqual(text, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
            + "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nConnection: keep-alive\r\n\r\n")
    }

    func testPreparedHeadEncodesTheSameBytesAsItsHeaders() {
        let encoder = HTTPResponseEncoder(dateCache: fixedCache)
        let cases: [(Int, HTTPHeaders, Int?)] = [
            (200, ["Content-Type": "text/plain; charset=UTF-8", "Access-Control-Allow-Origin": "*"], 12),
            (200, ["Content-Type": "text/html"], 0),
            (404, ["Connection": "Upgrade", "Date": "x"], 3),
            (204, [:], 0),
            (200, ["Content-Length": "5"], nil),
        ]
        for (status, headers, length) in cases {
            for keepAlive in [true, false] {
                var plain: [UInt8] = []
                encoder.encodeHead(status: status, headers: headers, contentLength: length, keepAlive: keepAlive, into: &plain)
                var prepared: [UInt8] = []
                encoder.encodeHead(HTTPPreparedHead(status: status, headers: headers), contentLength: length,
                                   keepAlive: keepAlive, into: &prepared)
                XCTAssertEqual(String(decoding: prepared, as: UTF8.self), String(decoding: plain, as: UTF8.self))
            }
        }
    }

    func testConnectionCloseWhenNotKeepingAlive() {
        XCTAssertTrue(encode(HTTPResponse(status: 404), keepAlive: false).contains("\r\nConnection: close\r\n"))
    }

    func testExistingFramingHeadersAreNotDuplicated() {
        let response = HTTPResponse(status: 101, headers: [
            "Upgrade": "websocket", "Connection": "Upgrade", "Date": "x", "Content-Length": "0",
        ])
        let text = encode(response, keepAlive: false)
        XCTAssertEqual(text.components(separatedBy: "Connection:").count, 2)
        XCTAssertEqual(text.components(separatedBy: "Date:").count, 2)
        XCTAssertEqual(text.components(separatedBy: "Content-Length:").count, 2)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
    }

    func testNoContentLengthForStatusesWithoutBody() {
        XCTAssertFalse(encode(HTTPResponse(status: 204)).contains("Content-Length"))
        XCTAssertFalse(encode(HTTPResponse(status: 304)).contains("Content-Length"))
        XCTAssertFalse(encode(HTTPResponse(status: 100)).contains("Content-Length"))
    }

    func testFileBodyLengthIsUsed() {
        let response = HTTPResponse(status: 200, body: .file(path: "/x", offset: 10, length: 1234))
        XCTAssertTrue(encode(response).contains("Content-Length: 1234\r\n"))
    }

    func testReasonPhrasesForCommonAndUnknownCodes() {
        XCTAssertEqual(HTTPStatus.reasonPhrase(404), "Not Found")
        XCTAssertEqual(HTTPStatus.reasonPhrase(413), "Content Too Large")
        XCTAssertEqual(HTTPStatus.reasonPhrase(431), "Request Header Fields Too Large")
        XCTAssertEqual(HTTPStatus.reasonPhrase(499), "Client Error")
        XCTAssertTrue(encode(HTTPResponse(status: 599)).hasPrefix("HTTP/1.1 599 Server Error\r\n"))
    }

    func testLineBreaksInHeaderValuesCannotSplitTheResponse() {
        let text = encode(HTTPResponse(status: 302, headers: ["Location": "/a\r\nSet-Cookie: evil=1"]))
        XCTAssertTrue(text.contains("Location: /a  Set-Cookie: evil=1\r\n"))
        XCTAssertFalse(text.contains("\r\nSet-Cookie"))
    }

    /// Fields are written in place: CR, LF and NUL become spaces wherever they sit (inside an eight-byte
    /// word or after the last one), and every other byte is copied as it is.
    func testFieldBytesAreCopiedAndSanitizedAtEveryOffset() {
        for length in 0..<20 {
            let filler = String(repeating: "v", count: length)
            for bad in ["\r", "\n", "\u{00}"] {
                let text = encode(HTTPResponse(status: 200, headers: ["X-\(filler)": "\(filler)\(bad)\u{E9}z"]))
                XCTAssertTrue(text.contains("\r\nX-\(filler): \(filler) \u{E9}z\r\n"), text.debugDescription)
            }
        }
    }

    /// Many fields (more separators than one block of zeros), in order, and framing fields seen among them.
    func testManyFieldsKeepTheirOrder() {
        var headers = HTTPHeaders()
        for index in 0..<100 { headers.add("X-\(index)", "\(index * 7)") }
        headers.add("date", "then")
        let text = encode(HTTPResponse(status: 200, headers: headers), contentLength: 0)
        let expected = (0..<100).map { "X-\($0): \($0 * 7)\r\n" }.joined()
        XCTAssertEqual(text, "HTTP/1.1 200 OK\r\n" + expected + "date: then\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n")
    }

    func testHTTPDateFormatsAndParsesAllThreeForms() {
        XCTAssertEqual(HTTPDate.format(epochSeconds: 0), "Thu, 01 Jan 1970 00:00:00 GMT")
        XCTAssertEqual(HTTPDate.format(epochSeconds: 951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT")
        XCTAssertEqual(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT"), 784_111_777)
        XCTAssertEqual(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT"), 784_111_777)
        XCTAssertEqual(HTTPDate.parse("Sun Nov  6 08:49:37 1994"), 784_111_777)
        XCTAssertNil(HTTPDate.parse("yesterday"))
        XCTAssertNil(HTTPDate.parse("Sun, 06 Foo 1994 08:49:37 GMT"))
        for seconds in stride(from: -86_400 * 400, to: 4_102_444_800, by: 86_400 * 37 + 3_601) {
            XCTAssertEqual(HTTPDate.parse(HTTPDate.format(epochSeconds: seconds)), seconds)
        }
    }

    func testDateCacheIsSafeFromManyThreads() {
        let cache = HTTPDateCache()
        DispatchQueue.concurrentPerform(iterations: 1000) { _ in
            XCTAssertEqual(cache.currentBytes().count, 29)
        }
    }
}
