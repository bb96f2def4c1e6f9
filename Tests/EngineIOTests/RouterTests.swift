@testable import EngineIO
@testable import HTTPKit
import XCTest

final class RouterTests: XCTestCase {
    private func request(_ method: String, _ target: String, headers: HTTPHeaders = HTTPHeaders(),
                         body: String = "") -> HTTPRequest {
        HTTPRequest(head: HTTPRequestHead(method: method, target: target, headers: headers), body: Array(body.utf8))
    }

    private func bodyText(_ response: HTTPResponse) -> String {
        guard case .bytes(let bytes) = response.body else { return "<file>" }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func makeRouter() -> Router {
        let router = Router()
        router.get("/ai_project/:id") { ctx in .text("project \(ctx.params["id"] ?? "?")") }
        router.get("/ai_project/new") { _ in .text("new form") }
        router.put("/ai_project/:id") { ctx in .text("updated \(ctx.params["id"] ?? "?") with \(ctx.body.count)") }
        router.delete("/ai_project/:id") { _ in .noContent() }
        router.post("/users/:user/files/:name") { ctx in
            .text("\(ctx.params["user"] ?? "")|\(ctx.params["name"] ?? "")")
        }
        router.get("/static/*path") { ctx in .text("static:\(ctx.params["path"] ?? "")") }
        router.get("/") { _ in .text("home") }
        return router
    }

    /// ASCII paths are split as bytes, others as characters: the same segments either way.
    func testRequestPathSegmentsAreSplitAndDecodedAlike() {
        XCTAssertEqual(RoutePattern.segments(ofRequestPath: "//a/b%2Fc//d%20e/"), ["a", "b/c", "d e"])
        XCTAssertEqual(RoutePattern.segments(ofRequestPath: "http://host:1/x/y"), ["x", "y"])
        XCTAssertEqual(RoutePattern.segments(ofRequestPath: "/"), [])
        XCTAssertEqual(RoutePattern.segments(ofRequestPath: ""), [])
        XCTAssertEqual(RoutePattern.segments(ofRequestPath: "//é/b%2Fc/"), ["é", "b/c"])
        XCTAssertEqual(RoutePattern.segments(ofRequestPath: "/a%41/b+c/%zz%4/%"), ["aA", "b+c", "%zz%4", "%"])
        XCTAssertEqual(RoutePattern.segments(ofRequestPath: "/x/%C3%A9/%FF"), ["x", "é", "\u{FFFD}"])
        XCTAssertEqual(RoutePattern.segments(ofRequestPath: "https://h"), [])
    }

    func testPathParametersAreCapturedAndDecoded() async {
        let router = makeRouter()
        let r1 = await router.response(for: request("GET", "/ai_project/42?x=1"))
        XCTAssertEqual(bodyText(r1), "project 42")
        let r2 = await router.response(for: request("POST", "/users/z%C3%B6e/files/a%2Fb%20c.txt"))
        XCTAssertEqual(bodyText(r2), "zöe|a/b c.txt")
    }

    func testLiteralSegmentsBeatParametersRegardlessOfOrder() async {
        let response = await makeRouter().response(for: request("GET", "/ai_project/new"))
        XCTAssertEqual(bodyText(response), "new form")
    }

    func testWildcardCapturesTheRestOfThePath() async {
        let router = makeRouter()
        let deep = await router.response(for: request("GET", "/static/css/site%20main.css"))
        XCTAssertEqual(bodyText(deep), "static:css/site main.css")
        let empty = await router.response(for: request("GET", "/static"))
        XCTAssertEqual(bodyText(empty), "static:")
    }

    func testTrailingSlashAndRootAreRouted() async {
        let router = makeRouter()
        let slash = await router.response(for: request("GET", "/ai_project/7/"))
        XCTAssertEqual(bodyText(slash), "project 7")
        let home = await router.response(for: request("GET", "/"))
        XCTAssertEqual(bodyText(home), "home")
    }

    func testUnknownPathIs404WithJSONError() async {
        let response = await makeRouter().response(for: request("GET", "/nope"))
        XCTAssertEqual(response.status, 404)
        XCTAssertEqual(response.headers["Content-Type"], "application/json; charset=utf-8")
        XCTAssertEqual(bodyText(response), "{\"error\":\"not found\"}")
    }

    func testWrongMethodOnKnownPathIs405WithAllow() async {
        let response = await makeRouter().response(for: request("POST", "/ai_project/3"))
        XCTAssertEqual(response.status, 405)
        XCTAssertEqual(response.headers["Allow"], "DELETE, GET, HEAD, PUT")
    }

    func testOptionsWithoutRouteListsAllowedMethods() async {
        let response = await makeRouter().response(for: request("OPTIONS", "/ai_project/3"))
        XCTAssertEqual(response.status, 204)
        XCTAssertEqual(response.headers["Allow"], "DELETE, GET, HEAD, OPTIONS, PUT")
    }

    func testHeadIsServedByGetWithoutBody() async {
        let response = await makeRouter().response(for: request("HEAD", "/ai_project/42"))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers["Content-Length"], "10")
        XCTAssertEqual(bodyText(response), "")
    }

    func testMiddlewareRunsInOrderAndCanShortCircuit() async {
        let router = Router()
        router.use { ctx, next in
            var response = try await next(ctx)
            response.headers.add("X-Order", "outer")
            return response
        }
        router.use { ctx, next in
            if ctx.headers["Authorization"] == nil { throw HTTPError.unauthorized() }
            var inner = ctx
            inner.locals["user"] = "ann"
            var response = try await next(inner)
            response.headers.add("X-Order", "inner")
            return response
        }
        router.get("/me") { ctx in .text("user \(ctx.locals["user"] as? String ?? "-")") }

        let denied = await router.response(for: request("GET", "/me"))
        XCTAssertEqual(denied.status, 401)
        XCTAssertEqual(denied.headers.values("X-Order"), ["outer"])

        let allowed = await router.response(for: request("GET", "/me", headers: ["Authorization": "x"]))
        XCTAssertEqual(bodyText(allowed), "user ann")
        XCTAssertEqual(allowed.headers.values("X-Order"), ["inner", "outer"])

        let missing = await router.response(for: request("GET", "/other", headers: ["Authorization": "x"]))
        XCTAssertEqual(missing.status, 404, "middleware also sees requests no route matches")
        XCTAssertEqual(missing.headers.values("X-Order"), ["inner", "outer"])
    }

    func testThrownHTTPErrorBecomesItsStatusAndOtherErrorsBecome500() async {
        struct Oops: Error {}
        let router = Router()
        router.get("/teapot") { _ in throw HTTPError(418, "short \"and\" stout", headers: ["X-Why": "tea"]) }
        router.get("/crash") { _ in throw Oops() }
        let teapot = await router.response(for: request("GET", "/teapot"))
        XCTAssertEqual(teapot.status, 418)
        XCTAssertEqual(teapot.headers["X-Why"], "tea")
        XCTAssertEqual(bodyText(teapot), #"{"error":"short \"and\" stout"}"#)
        let crash = await router.response(for: request("GET", "/crash"))
        XCTAssertEqual(crash.status, 500)
        XCTAssertEqual(bodyText(crash), #"{"error":"internal error"}"#)
    }

    func testContextGivesQueryCookiesFormAndJSON() async throws {
        struct Payload: Codable, Equatable { var name: String; var count: Int }
        let router = Router()
        router.post("/form") { ctx in
            let form = try ctx.form()
            return .text("\(ctx.query["q"] ?? "")|\(ctx.cookies["sid"] ?? "")|\(form["a"] ?? "")")
        }
        router.post("/json") { ctx in
            var payload = try ctx.decodeJSON(Payload.self)
            payload.count += 1
            return try ctx.json(payload, status: 201)
        }
        router.get("/go") { ctx in ctx.redirect(to: "/elsewhere") }

        let form = await router.response(for: request(
            "POST", "/form?q=hi+there", headers: ["Cookie": "sid=s1", "Content-Type": URLEncodedForm.mediaType],
            body: "a=b%20c"))
        XCTAssertEqual(bodyText(form), "hi there|s1|b c")

        let wrongType = await router.response(for: request(
            "POST", "/form", headers: ["Content-Type": "application/json"], body: "{}"))
        XCTAssertEqual(wrongType.status, 415)

        let json = await router.response(for: request("POST", "/json", body: #"{"name":"x","count":1}"#))
        XCTAssertEqual(json.status, 201)
        guard case .bytes(let bytes) = json.body else { return XCTFail("expected bytes") }
        XCTAssertEqual(try JSONDecoder().decode(Payload.self, from: Data(bytes)), Payload(name: "x", count: 2))

        let badJSON = await router.response(for: request("POST", "/json", body: "nope"))
        XCTAssertEqual(badJSON.status, 400)

        let redirect = await router.response(for: request("GET", "/go"))
        XCTAssertEqual(redirect.status, 302)
        XCTAssertEqual(redirect.headers["Location"], "/elsewhere")
    }

    func testMultipartBodyThroughContext() async {
        let router = Router()
        router.post("/upload") { ctx in
            let form = try ctx.multipart()
            defer { form.removeFiles() }
            return .text("\(form.fields["title"] ?? "")|\(form.files.first?.size ?? -1)")
        }
        let body = "--b\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nT\r\n"
            + "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f.txt\"\r\n\r\nabc\r\n--b--\r\n"
        let ok = await router.response(for: request(
            "POST", "/upload", headers: ["Content-Type": "multipart/form-data; boundary=b"], body: body))
        XCTAssertEqual(bodyText(ok), "T|3")
        let notMultipart = await router.response(for: request("POST", "/upload", body: body))
        XCTAssertEqual(notMultipart.status, 415)
    }

    func testHandleRespondsExactlyOnceThroughResponder() async {
        final class Recorder: HTTPResponder, @unchecked Sendable {
            let lock = NSLock()
            var responses: [HTTPResponse] = []
            let expectation: XCTestExpectation
            init(_ expectation: XCTestExpectation) { self.expectation = expectation }
            func respond(_ response: HTTPResponse) {
                lock.lock()
                responses.append(response)
                lock.unlock()
                expectation.fulfill()
            }
        }
        let done = expectation(description: "responded")
        done.assertForOverFulfill = true
        let recorder = Recorder(done)
        makeRouter().handle(request("GET", "/ai_project/1"), responder: recorder)
        await fulfillment(of: [done], timeout: 5)
        XCTAssertEqual(recorder.responses.map(\.status), [200])
    }

    func testFallbackReplaces404() async {
        let router = Router()
        router.setFallback { _ in .html("<p>app</p>") }
        let response = await router.response(for: request("GET", "/any/client/route"))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(bodyText(response), "<p>app</p>")
    }
}
