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
}
