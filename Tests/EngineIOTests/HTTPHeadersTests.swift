@testable import EngineIO
@testable import HTTPKit
import XCTest

/// Field lookups the server makes on every request: names and list tokens compare without ASCII case.
final class HTTPHeadersTests: XCTestCase {
    func testTokenListsMatchWholeElementsIgnoringCaseAndSpaces() {
        let headers: HTTPHeaders = ["Connection": "keep-alive, Upgrade", "X-List": " ,\tCLOSE\t,, a b ", "Empty": ""]
        XCTAssertTrue(headers.hasToken("upgrade", in: "connection"))
        XCTAssertTrue(headers.hasToken("Keep-Alive", in: "CONNECTION"))
        XCTAssertTrue(headers.hasToken("close", in: "x-list"))
        XCTAssertTrue(headers.hasToken("a b", in: "X-List"), "inner spaces belong to the element")
        XCTAssertFalse(headers.hasToken("upgrades", in: "Connection"))
        XCTAssertFalse(headers.hasToken("grade", in: "Connection"))
        XCTAssertFalse(headers.hasToken("keep", in: "Connection"))
        XCTAssertFalse(headers.hasToken("close", in: "Empty"))
        XCTAssertFalse(headers.hasToken("close", in: "Missing"))
    }

    func testFirstValueComparesTheFirstFieldIgnoringCase() {
        var headers: HTTPHeaders = ["UPGRADE": "WebSocket", "Connection": "Upgrade"]
        headers.add("Upgrade", "h2c")
        XCTAssertTrue(headers.firstValue(of: .upgrade, equalsIgnoringCase: "websocket"))
        XCTAssertFalse(headers.firstValue(of: .upgrade, equalsIgnoringCase: "h2c"), "only the first field counts")
        XCTAssertFalse(headers.firstValue(of: .upgrade, equalsIgnoringCase: "websockets"))
        XCTAssertFalse(headers.firstValue(of: .secWebSocketKey, equalsIgnoringCase: "websocket"), "absent")
        XCTAssertFalse(headers.firstValue(of: .other, equalsIgnoringCase: "upgrade"))
        let padded: HTTPHeaders = ["Upgrade": "websocket "]
        XCTAssertEqual(padded.firstValue(of: .upgrade, equalsIgnoringCase: "websocket"),
                       padded[.upgrade]?.asciiCaseInsensitiveEquals("websocket") == true)
    }

    func testEveryFieldOfTheNameIsSearched() {
        var headers = HTTPHeaders()
        headers.add("Transfer-Encoding", "gzip")
        headers.add("transfer-encoding", "chunked")
        XCTAssertTrue(headers.hasToken("chunked", in: "Transfer-Encoding"))
        XCTAssertFalse(headers.hasToken("deflate", in: "Transfer-Encoding"))
    }

    func testNonASCIIValuesAreComparedBytewise() {
        let headers: HTTPHeaders = ["X-Tokens": "é, ü"]
        XCTAssertTrue(headers.hasToken("ü", in: "x-tokens"))
        XCTAssertFalse(headers.hasToken("Ü", in: "x-tokens"), "only ASCII letters fold")
    }

    /// Names are recognised once when stored: a known name is found under any case, by its known name too,
    /// and a name that only shares a known name's length is not mistaken for it.
    func testKnownAndOtherNamesAreFoundUnderAnyCase() {
        var headers = HTTPHeaders()
        headers.add("sEc-WebSocket-KEY", "abc")
        headers.add("X-Custom-Thing", "1")
        headers.add("Sec-WebSocket-Kez", "not the key")
        headers.add("x-custom-thing", "2")
        XCTAssertEqual(headers["Sec-WebSocket-Key"], "abc")
        XCTAssertEqual(headers[.secWebSocketKey], "abc")
        XCTAssertEqual(headers["SEC-WEBSOCKET-KEZ"], "not the key")
        XCTAssertEqual(headers.values("X-CUSTOM-THING"), ["1", "2"])
        XCTAssertNil(headers["Upgrade"])
        XCTAssertFalse(headers.contains(.upgrade))
        XCTAssertEqual(headers.fields.map(\.name), ["sEc-WebSocket-KEY", "X-Custom-Thing", "Sec-WebSocket-Kez", "x-custom-thing"])
        XCTAssertEqual(headers.compacted().fields.map(\.value), ["abc", "1", "not the key", "2"])
    }

    func testSetAndRemoveKeepTheOtherFieldsInOrder() {
        var headers: HTTPHeaders = ["A": "1", "Content-Type": "text/plain", "B": "2", "content-type": "x"]
        headers.set("CONTENT-TYPE", "application/json")
        XCTAssertEqual(headers.fields.map(\.name), ["A", "B", "CONTENT-TYPE"])
        XCTAssertEqual(headers[.contentType], "application/json")
        headers.remove("a")
        XCTAssertEqual(headers.fields.map(\.value), ["2", "application/json"])
    }

    /// Every known name is recognised from its spelling in any case, and nothing else is.
    func testEveryKnownNameIsRecognised() {
        let spellings: [(String, HTTPHeaderName)] = [
            ("Host", .host), ("Connection", .connection), ("Upgrade", .upgrade), ("Content-Length", .contentLength),
            ("Transfer-Encoding", .transferEncoding), ("Content-Type", .contentType), ("Date", .date),
            ("Origin", .origin), ("Cookie", .cookie), ("Expect", .expect), ("Sec-WebSocket-Key", .secWebSocketKey),
            ("Sec-WebSocket-Version", .secWebSocketVersion), ("Sec-WebSocket-Extensions", .secWebSocketExtensions),
            ("Sec-WebSocket-Protocol", .secWebSocketProtocol), ("X-Forwarded-For", .xForwardedFor),
            ("X-Forwarded-Proto", .xForwardedProto), ("Access-Control-Request-Headers", .accessControlRequestHeaders),
            ("Accept-Encoding", .acceptEncoding), ("Range", .range), ("If-Range", .ifRange),
            ("If-None-Match", .ifNoneMatch), ("If-Modified-Since", .ifModifiedSince),
            ("Content-Disposition", .contentDisposition), ("Authorization", .authorization),
        ]
        XCTAssertEqual(Set(spellings.map(\.1)), Set(HTTPHeaderName.allCases.filter { $0 != .other }))
        for (name, known) in spellings {
            XCTAssertEqual(HTTPHeaderName.recognise(name), known, name)
            XCTAssertEqual(HTTPHeaderName.recognise(name.uppercased()), known, name)
            XCTAssertEqual(HTTPHeaderName.recognise(name.lowercased()), known, name)
            XCTAssertEqual(HTTPHeaderName.recognise(String(name.dropLast()) + "\r"), .other, name)
            // A byte changed anywhere (into a neighbour of a letter's case pair, a control or non-ASCII)
            // makes it another name, for words read eight bytes at a time and the overlapping last one.
            let bytes = Array(name.utf8)
            for index in bytes.indices {
                for replacement: UInt8 in [bytes[index] ^ 0x20, bytes[index] ^ 0x40, bytes[index] | 0x80, 0x0D, 0x5B, 0x40, 0x60, 0x7B] {
                    let lowered = ASCIICase.lower(replacement), original = ASCIICase.lower(bytes[index])
                    if lowered == original { continue }
                    var changed = bytes
                    changed[index] = replacement
                    let spelled = changed.withUnsafeBufferPointer { HTTPHeaderName.recognise($0) }
                    XCTAssertEqual(spelled, .other, "\(name) with byte \(index) as \(replacement)")
                }
            }
        }
        XCTAssertEqual(HTTPHeaderName.recognise("Hos"), .other)
        XCTAssertEqual(HTTPHeaderName.recognise(""), .other)
    }
}
