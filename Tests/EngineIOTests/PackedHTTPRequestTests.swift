@testable import EngineIO
import HTTPKit
import XCTest

/// A session's handshake is kept packed (`PackedHTTPRequest`) and rebuilt on read: the rebuilt request must
/// be the one that came in, field for field, in order, duplicates and case included.
final class PackedHTTPRequestTests: XCTestCase {
    private func assertSame(_ rebuilt: HTTPRequest, _ original: HTTPRequest, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(rebuilt.head.method, original.head.method, file: file, line: line)
        XCTAssertEqual(rebuilt.head.target, original.head.target, file: file, line: line)
        XCTAssertEqual(rebuilt.head.versionMajor, original.head.versionMajor, file: file, line: line)
        XCTAssertEqual(rebuilt.head.versionMinor, original.head.versionMinor, file: file, line: line)
        XCTAssertEqual(rebuilt.head.headers.fields.map(\.name), original.head.headers.fields.map(\.name), file: file, line: line)
        XCTAssertEqual(rebuilt.head.headers.fields.map(\.value), original.head.headers.fields.map(\.value), file: file, line: line)
        XCTAssertEqual(rebuilt.remoteAddress, original.remoteAddress, file: file, line: line)
        XCTAssertEqual(rebuilt.isSecure, original.isSecure, file: file, line: line)
        XCTAssertTrue(rebuilt.body.isEmpty, file: file, line: line)
    }

    func testRoundTripKeepsEveryFieldInOrder() {
        let headers: HTTPHeaders = [
            "Host": "127.0.0.1:3000", "upgrade": "websocket", "Connection": "Upgrade",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Cookie": "a=1", "cookie": "b=2", "X-Empty": "",
            "Origin": "http://example.com", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) ünïcödé",
        ]
        let head = HTTPRequestHead(method: "GET", target: "/socket.io/?EIO=4&transport=websocket&x=%20y",
                                   versionMajor: 1, versionMinor: 0, headers: headers)
        let original = HTTPRequest(head: head, body: Array("ignored".utf8), remoteAddress: "2001:db8::1", isSecure: true)
        let packed = PackedHTTPRequest(original)
        self.assertSame(packed.request, original)
        // Rebuilt headers behave as parsed ones: lookups ignore case and see duplicates.
        XCTAssertEqual(packed.request.head.headers["COOKIE"], "a=1")
        XCTAssertEqual(packed.request.head.headers.values("cookie"), ["a=1", "b=2"])
        XCTAssertEqual(packed.request.head.headers[.origin], "http://example.com")
    }

    func testNoHeaders() {
        let original = HTTPRequest(head: HTTPRequestHead(method: "POST", target: "/"), remoteAddress: "")
        self.assertSame(PackedHTTPRequest(original).request, original)
    }

    func testFieldLongerThanSixteenBitsIsKeptWhole() {
        let long = String(repeating: "v", count: 70_000)
        let head = HTTPRequestHead(method: "GET", target: "/socket.io/?EIO=4", headers: ["X-Long": long, "Host": "h"])
        let original = HTTPRequest(head: head, remoteAddress: "127.0.0.1")
        self.assertSame(PackedHTTPRequest(original).request, original)
    }
}
