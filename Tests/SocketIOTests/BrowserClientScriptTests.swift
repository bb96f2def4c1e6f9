import EngineIO
import HTTPKit
@testable import SocketIO
import XCTest

/// The minifier on the constructs that break naive ones, and the route that serves the browser client.
final class BrowserClientScriptTests: XCTestCase {
    private func minified(_ source: String) -> String {
        String(decoding: JavaScriptMinifier.minify(Array(source.utf8)), as: UTF8.self)
    }

    func testCommentsAndSpacesGoButStringsAndRegexesStay() {
        let source = """
            /* header
             * comment */
            const url = 'http://host/ // not a comment'; // a comment
            const re = /^\\/\\/[a/]*$/g.test(x);  /* inline */
            const t = `a  /* kept */  b`;
            if (a  ===  b) {  return  "x  y" ;  }
            """
        XCTAssertEqual(minified(source), """
            const url='http://host/ // not a comment';const re=/^\\/\\/[a/]*$/g.test(x);const t=`a  /* kept */  b`;if(a===b){return "x  y";}
            """)
    }

    func testLineBreaksStayWhereSemicolonInsertionNeedsThem() {
        XCTAssertEqual(minified("let a = b\nlet c = d\n"), "let a=b\nlet c=d")
        XCTAssertEqual(minified("return\nx"), "return\nx")
        XCTAssertEqual(minified("a = {\n  b: 1,\n  c: 2\n}\n.x"), "a={b:1,c:2}.x")
        XCTAssertEqual(minified("i++\n++j"), "i++\n++j")
    }

    func testOperatorsThatWouldMergeKeepTheirSpace() {
        XCTAssertEqual(minified("a + +b; c - -d; e / f; g = h / /re/.x; k = /re/ * 2"), "a+ +b;c- -d;e/ f;g=h/ /re/.x;k=/re/ *2")
        XCTAssertEqual(minified("x = a ? /re/ : typeof /s/"), "x=a?/re/:typeof/s/")
        XCTAssertEqual(minified("if (/re/ in x) y = 1 / 2"), "if(/re/ in x)y=1/ 2")
        XCTAssertEqual(minified("const é = 'ü'  +  ü"), "const é='ü'+ü")
    }

    func testTheClientShrinksAndKeepsItsEntryPoint() {
        let source = BrowserClientScript.source
        let served = BrowserClientScript.minified
        XCTAssertLessThan(served.count, source.count * 8 / 10)
        let text = String(decoding: served, as: UTF8.self)
        XCTAssertTrue(text.contains("global.io=io"))
        XCTAssertFalse(text.contains("// ----"))
    }

    func testRouteServesBothNamesWithETagAnd304() throws {
        let route = BrowserClientRoute(path: "/socket.io/")
        let ok = try XCTUnwrap(route.response(to: HTTPRequestHead(method: "GET", target: "/socket.io/socket.io.js?v=1")))
        XCTAssertEqual(ok.status, 200)
        XCTAssertEqual(ok.headers["Content-Type"], "application/javascript; charset=utf-8")
        guard case .bytes(let body) = ok.body else { return XCTFail("not bytes") }
        XCTAssertEqual(body, BrowserClientScript.minified)
        let etag = try XCTUnwrap(ok.headers["ETag"])
        let min = try XCTUnwrap(route.response(to: HTTPRequestHead(method: "GET", target: "/socket.io/socket.io.min.js")))
        XCTAssertEqual(min.headers["ETag"], etag)
        for match in [etag, "W/" + etag, "\"other\", " + etag, "*"] {
            let head = HTTPRequestHead(method: "GET", target: "/socket.io/socket.io.js", headers: ["If-None-Match": match])
            XCTAssertEqual(route.response(to: head)?.status, 304, match)
        }
        let gzipHead = HTTPRequestHead(method: "GET", target: "/socket.io/socket.io.js", headers: ["Accept-Encoding": "gzip, br"])
        let zipped = try XCTUnwrap(route.response(to: gzipHead))
        XCTAssertEqual(zipped.headers["Content-Encoding"], "gzip")
        guard case .bytes(let compressed) = zipped.body else { return XCTFail("not bytes") }
        XCTAssertEqual(try Gzip.decompress(compressed), BrowserClientScript.minified)
    }

    func testRouteLeavesEverythingElseToEngineIO() {
        let route = BrowserClientRoute(path: "/socket.io/")
        for (method, target) in [("GET", "/socket.io/?EIO=4&transport=polling"), ("POST", "/socket.io/socket.io.js"),
                                 ("GET", "/socket.io/socket.io.jsx"), ("GET", "/other/socket.io.js"),
                                 ("GET", "/socket.io/socket.io.js.map")] {
            XCTAssertNil(route.response(to: HTTPRequestHead(method: method, target: target)), "\(method) \(target)")
        }
        XCTAssertNotNil(BrowserClientRoute(path: "/custom/").response(to: HTTPRequestHead(method: "GET", target: "/custom/socket.io.js")))
    }

    func testServeClientOffLeavesTheEngineWithoutAFileResponder() {
        var options = SocketIOServerOptions()
        options.serveClient = false
        let engine = EngineServer(options: .socketIO)
        _ = SocketIOServer(engine: engine, options: options)
        XCTAssertNil(engine.fileResponder)
        let served = EngineServer(options: .socketIO)
        _ = SocketIOServer(engine: served)
        XCTAssertNotNil(served.fileResponder?(HTTPRequestHead(method: "GET", target: "/socket.io/socket.io.js")))
    }
}
