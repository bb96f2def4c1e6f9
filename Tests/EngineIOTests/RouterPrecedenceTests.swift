@testable import EngineIO
@testable import HTTPKit
import XCTest

/// Pins which route wins and what 404/405/OPTIONS answer when routes share prefixes, start with
/// parameters or wildcards, or arrive after the first request (the route index must not change any of it).
final class RouterPrecedenceTests: XCTestCase {
    private func request(_ method: String, _ target: String) -> HTTPRequest {
        HTTPRequest(head: HTTPRequestHead(method: method, target: target, headers: HTTPHeaders()), body: [])
    }

    private func text(_ router: Router, _ method: String, _ target: String) async -> String {
        let response = await router.response(for: request(method, target))
        guard case .bytes(let bytes) = response.body else { return "<file>" }
        return "\(response.status) " + String(decoding: bytes, as: UTF8.self)
    }

    private func named(_ router: Router, _ method: String, _ path: String, _ name: String) {
        router.add(method: method, path: path) { ctx in
            .text(([name] + ctx.params.map { "\($0.name)=\($0.value)" }).joined(separator: ","))
        }
    }

    func testEqualSpecificityGoesToTheEarliestRegistered() async {
        let router = Router()
        named(router, "GET", "/p/:a", "first")
        named(router, "GET", "/p/:b", "second")
        let answer = await text(router, "GET", "/p/1")
        XCTAssertEqual(answer, "200 first,a=1")
    }

    func testLiteralFirstSegmentBeatsParameterFirstInEitherOrder() async {
        let router = Router()
        named(router, "GET", "/:x/y", "param-first")
        named(router, "GET", "/b/:z", "literal-first")
        named(router, "GET", "/*rest", "catch-all")
        let literal = await text(router, "GET", "/b/y")
        XCTAssertEqual(literal, "200 literal-first,z=y")
        let param = await text(router, "GET", "/c/y")
        XCTAssertEqual(param, "200 param-first,x=c")
        let rest = await text(router, "GET", "/c/d/e")
        XCTAssertEqual(rest, "200 catch-all,rest=c/d/e")
        let root = await text(router, "GET", "/")
        XCTAssertEqual(root, "200 catch-all,rest=")
    }

    func testExactRootBeatsRootWildcardAndWildcardMatchesItsPrefix() async {
        let router = Router()
        named(router, "GET", "/*all", "all")
        named(router, "GET", "/", "root")
        named(router, "GET", "/static/*path", "static")
        let root = await text(router, "GET", "/")
        XCTAssertEqual(root, "200 root")
        let bare = await text(router, "GET", "/static/")
        XCTAssertEqual(bare, "200 static,path=")
        let nested = await text(router, "GET", "/static/a/b%2Fc")
        XCTAssertEqual(nested, "200 static,path=a/b/c")
    }

    func testPercentEncodedLiteralSegmentsMatchAndEncodedSlashStaysInside() async {
        let router = Router()
        named(router, "GET", "/ai_project/:id", "project")
        named(router, "GET", "/ai_project/new", "new")
        let encoded = await text(router, "GET", "/ai%5Fproject/n%65w")
        XCTAssertEqual(encoded, "200 new")
        let slash = await text(router, "GET", "/ai_project/a%2Fb")
        XCTAssertEqual(slash, "200 project,id=a/b")
        let tooDeep = await text(router, "GET", "/ai_project/a/b")
        XCTAssertEqual(tooDeep, "404 {\"error\":\"not found\"}")
        let absolute = await text(router, "GET", "http://host:8/ai_project//7//?q=1")
        XCTAssertEqual(absolute, "200 project,id=7")
    }

    func testHeadPrefersItsOwnRouteAndAllowListsEveryMatchingMethod() async {
        let router = Router()
        named(router, "GET", "/a", "get")
        named(router, "HEAD", "/:x", "head")
        named(router, "POST", "/:x", "post")
        let head = await router.response(for: request("HEAD", "/a"))
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.headers["Content-Length"], "8", "the HEAD route's own body: head,x=a")
        let notAllowed = await router.response(for: request("DELETE", "/a"))
        XCTAssertEqual(notAllowed.status, 405)
        XCTAssertEqual(notAllowed.headers["Allow"], "GET, HEAD, POST")
        let other = await router.response(for: request("DELETE", "/b"))
        XCTAssertEqual(other.headers["Allow"], "HEAD, POST")
        let options = await router.response(for: request("OPTIONS", "/a"))
        XCTAssertEqual(options.status, 204)
        XCTAssertEqual(options.headers["Allow"], "GET, HEAD, OPTIONS, POST")
    }

    func testRoutesAddedAfterTheFirstRequestAreRouted() async {
        let router = Router()
        named(router, "GET", "/a", "a")
        let before = await text(router, "GET", "/b")
        XCTAssertEqual(before, "404 {\"error\":\"not found\"}")
        named(router, "GET", "/b", "b")
        named(router, "GET", "/:any", "any")
        let after = await text(router, "GET", "/b")
        XCTAssertEqual(after, "200 b")
        let any = await text(router, "GET", "/c")
        XCTAssertEqual(any, "200 any,any=c")
    }

    func testMethodsAreCaseSensitive() async {
        let router = Router()
        named(router, "GET", "/a", "get")
        let lower = await router.response(for: request("get", "/a"))
        XCTAssertEqual(lower.status, 405)
        XCTAssertEqual(lower.headers["Allow"], "GET, HEAD")
    }
}
