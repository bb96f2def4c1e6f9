@testable import HTTPKit
import Foundation
import XCTest

/// Direct routes: answered through `RouteAnswer` without a task when all middleware is synchronous, with the same
/// error responses, middleware and HEAD handling as async routes.
final class RouterDirectRouteTests: XCTestCase {
    /// Records responses; `wait` returns once `count` arrived (bounded).
    private final class Recorder: HTTPResponder, @unchecked Sendable {
        private let condition = NSCondition()
        private var responses: [HTTPResponse] = []

        func respond(_ response: HTTPResponse) {
            condition.lock()
            responses.append(response)
            condition.broadcast()
            condition.unlock()
        }

        var now: [HTTPResponse] {
            condition.lock()
            defer { condition.unlock() }
            return responses
        }

        func wait(for count: Int, seconds: Double = 5) -> [HTTPResponse] {
            let deadline = Date().addingTimeInterval(seconds)
            condition.lock()
            defer { condition.unlock() }
            while responses.count < count && condition.wait(until: deadline) {}
            return responses
        }
    }

    private func request(_ method: String, _ target: String, headers: HTTPHeaders = HTTPHeaders()) -> HTTPRequest {
        HTTPRequest(head: HTTPRequestHead(method: method, target: target, headers: headers), body: [])
    }

    private func bodyText(_ response: HTTPResponse) -> String {
        guard case .bytes(let bytes) = response.body else { return "<file>" }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Outer layer tags every response; inner layer refuses requests without `Authorization`.
    private func makeRouter() -> Router {
        let router = Router()
        router.use(sync: SyncMiddleware(after: { _, response in
            var tagged = response
            tagged.headers.add("X-Order", "outer")
            return tagged
        }))
        router.use(sync: SyncMiddleware(
            before: { ctx in ctx.headers["Authorization"] == nil ? .error(status: 401, message: "who") : nil },
            after: { _, response in
                var tagged = response
                tagged.headers.add("X-Order", "inner")
                return tagged
            }))
        router.addDirect(method: "GET", path: "/now/:id") { ctx, answer in
            answer.respond(.text("now \(ctx.params["id"] ?? "?")"))
        }
        router.addDirect(method: "GET", path: "/later") { _, answer in
            DispatchQueue.global().async {
                answer.respond(.text("later"))
                answer.respond(.text("twice"))
                answer.fail(HTTPError(418, "ignored"))
            }
        }
        router.addDirect(method: "GET", path: "/teapot") { _, _ in
            throw HTTPError(418, "short", headers: ["X-Why": "tea"])
        }
        router.addDirect(method: "GET", path: "/failed") { _, answer in
            DispatchQueue.global().async { answer.fail(HTTPError(409, "late")) }
        }
        router.addDirect(method: "GET", path: "/dropped") { _, _ in }
        return router
    }

    private let authorized: HTTPHeaders = ["Authorization": "x"]

    func testDirectRouteAnswersBeforeHandleReturnsWithMiddlewareSteps() {
        let recorder = Recorder()
        makeRouter().handle(request("GET", "/now/7", headers: authorized), responder: recorder)
        let responses = recorder.now
        XCTAssertEqual(responses.count, 1, "answered on the calling thread, no task")
        XCTAssertEqual(responses.first.map(bodyText), "now 7")
        XCTAssertEqual(responses.first?.headers.values("X-Order"), ["inner", "outer"])
    }

    func testAnswerFromAnotherThreadCountsOnce() {
        let recorder = Recorder()
        makeRouter().handle(request("GET", "/later", headers: authorized), responder: recorder)
        let responses = recorder.wait(for: 1)
        XCTAssertEqual(responses.map(bodyText), ["later"])
        // A second answer would have arrived with the first (same job): none did.
        XCTAssertEqual(recorder.wait(for: 2, seconds: 0.2).count, 1)
    }

    func testSyncLayerShortCircuitPassesOnlyOuterLayers() {
        let recorder = Recorder()
        makeRouter().handle(request("GET", "/now/1"), responder: recorder)
        let responses = recorder.now
        XCTAssertEqual(responses.map(\.status), [401])
        XCTAssertEqual(responses.first?.headers.values("X-Order"), ["outer"])
    }

    func testErrorsThrownOrFailedAnswerAsAsyncRoutesDo() {
        let router = makeRouter()
        let thrown = Recorder()
        router.handle(request("GET", "/teapot", headers: authorized), responder: thrown)
        let teapot = thrown.now.first
        XCTAssertEqual(teapot?.status, 418)
        XCTAssertEqual(teapot?.headers["X-Why"], "tea")
        XCTAssertEqual(teapot.map(bodyText), #"{"error":"short"}"#)
        XCTAssertEqual(teapot?.headers.values("X-Order"), ["inner", "outer"])

        let failed = Recorder()
        router.handle(request("GET", "/failed", headers: authorized), responder: failed)
        XCTAssertEqual(failed.wait(for: 1).map(\.status), [409])

        let dropped = Recorder()
        router.handle(request("GET", "/dropped", headers: authorized), responder: dropped)
        let lost = dropped.wait(for: 1)
        XCTAssertEqual(lost.map(\.status), [500])
        XCTAssertEqual(lost.first.map(bodyText), #"{"error":"internal error"}"#)
    }

    func testHeadOfDirectGetDropsBodyKeepingLength() {
        let recorder = Recorder()
        makeRouter().handle(request("HEAD", "/now/42", headers: authorized), responder: recorder)
        let response = recorder.now.first
        XCTAssertEqual(response?.status, 200)
        XCTAssertEqual(response?.headers["Content-Length"], "6")
        XCTAssertEqual(response.map(bodyText), "")
    }

    func testDirectRouteBehindAsyncMiddlewareRunsAsAnAsyncRoute() async {
        let router = makeRouter()
        router.use { ctx, next in
            var response = try await next(ctx)
            response.headers.add("X-Order", "async")
            return response
        }
        let later = await router.response(for: request("GET", "/later", headers: authorized))
        XCTAssertEqual(bodyText(later), "later")
        XCTAssertEqual(later.headers.values("X-Order"), ["async", "inner", "outer"])
        let teapot = await router.response(for: request("GET", "/teapot", headers: authorized))
        XCTAssertEqual(teapot.status, 418)
        let recorder = Recorder()
        router.handle(request("GET", "/now/3", headers: authorized), responder: recorder)
        XCTAssertEqual(recorder.wait(for: 1).map(bodyText), ["now 3"])
    }
}
