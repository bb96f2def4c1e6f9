import Foundation
import Synchronization
import XCTest

@testable import EngineIO
@testable import HTTPKit
@testable import Transport

/// The connection timer of the HTTP server is kept across requests: disarmed while a request is handled,
/// re-armed as the idle timer after the response, switched to the header timer when a new request starts.
/// These tests drive it over real sockets, each with a short timeout.
final class HTTPServerTimeoutTests: XCTestCase {
    private var group: EventLoopGroup!
    private var server: HTTPServer!
    private var handler: HoldingHandler!

    private func start(idleMillis: Int = 60_000, headerMillis: Int = 30_000) throws {
        self.group = try EventLoopGroup(loopCount: 1)
        self.handler = HoldingHandler()
        let configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0, headerTimeoutMillis: headerMillis,
                                                    idleTimeoutMillis: idleMillis)
        self.server = try HTTPServer(configuration: configuration, group: self.group, handler: self.handler)
    }

    override func tearDown() {
        self.server?.stopAccepting()
        self.group?.shutdown()
        // XCTest keeps every test case until the process exits: let go of the server and its loops.
        (self.server, self.group, self.handler) = (nil, nil, nil)
        super.tearDown()
    }

    func testKeepAliveConnectionClosesWhenIdleAfterARequest() throws {
        try self.start(idleMillis: 300)
        let client = try TestHTTPClient(port: self.server.port)
        // The server arms the idle timer after it answers, so the close cannot come sooner than the timeout
        // after the request was sent (however late this thread reads the answer).
        let sent = Date()
        try client.send(method: "GET", target: "/")
        XCTAssertEqual(try client.readResponse().status, 200)
        XCTAssertTrue(client.waitForClose(timeout: 5), "the idle timer must close the connection")
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(sent), 0.29, "closed before the idle timeout")
    }

    func testSecondRequestOnTheConnectionGetsTheIdleTimerAgain() throws {
        try self.start(idleMillis: 400)
        let client = try TestHTTPClient(port: self.server.port)
        for _ in 0..<3 {
            try client.send(method: "GET", target: "/")
            XCTAssertEqual(try client.readResponse().status, 200)
        }
        XCTAssertTrue(client.waitForClose(timeout: 5))
    }

    func testRequestHeldLongerThanTheIdleTimeoutIsNotCut() throws {
        try self.start(idleMillis: 200)
        let client = try TestHTTPClient(port: self.server.port)
        try client.send(method: "GET", target: "/hold")
        XCTAssertTrue(TestDeadline.wait(timeout: 5) { self.handler.heldCount == 1 })
        // Three idle timeouts pass while the request is pending: the timer is disarmed meanwhile.
        XCTAssertFalse(client.waitForClose(timeout: 0.6), "a pending request must keep its connection")
        self.handler.releaseAll()
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "released")
        XCTAssertTrue(client.waitForClose(timeout: 5), "idle again after the answer")
    }

    func testHeaderTimeoutAppliesToARequestStartedAfterAServedOne() throws {
        try self.start(idleMillis: 30_000, headerMillis: 300)
        let client = try TestHTTPClient(port: self.server.port)
        try client.send(method: "GET", target: "/")
        XCTAssertEqual(try client.readResponse().status, 200)
        try client.socket.send("GET / HTTP/1.1\r\nHost: localhost\r\n")
        XCTAssertEqual(try client.readResponse(timeout: 5).status, 408)
        XCTAssertTrue(client.waitForClose(timeout: 5))
    }

    func testClosingMidRequestAbandonsTheExchange() throws {
        try self.start(idleMillis: 60_000)
        for _ in 0..<3 {
            let client = try TestHTTPClient(port: self.server.port)
            try client.send(method: "GET", target: "/hold")
            client.socket.close()
        }
        XCTAssertTrue(TestDeadline.wait(timeout: 5) { self.handler.heldCount == 3 })
        // Each held exchange's connection went away: the server abandons the exchange (which also drops
        // its reference to the connection), and a late answer is ignored.
        XCTAssertTrue(TestDeadline.wait(timeout: 5) { self.handler.abandonedCount == 3 })
        self.handler.releaseAll()
        let client = try TestHTTPClient(port: self.server.port)
        try client.send(method: "GET", target: "/")
        XCTAssertEqual(try client.readResponse().status, 200, "the server keeps serving")
    }
}

/// Answers `/` at once and keeps `/hold` until `releaseAll`.
private final class HoldingHandler: HTTPRequestHandling {
    private let held = Mutex<[HTTPExchange]>([])
    private let abandoned = Atomic<Int>(0)

    var heldCount: Int { self.held.withLock { $0.count } }
    var abandonedCount: Int { self.abandoned.load(ordering: .relaxed) }

    func handle(_ request: HTTPRequest, exchange: HTTPExchange) {
        guard request.head.target == "/hold" else {
            exchange.respond(.text("ok"))
            return
        }
        exchange.abandonHandler = { [self] _ in self.abandoned.add(1, ordering: .relaxed) }
        self.held.withLock { $0.append(exchange) }
    }

    func releaseAll() {
        let exchanges = self.held.withLock { held -> [HTTPExchange] in
            defer { held.removeAll() }
            return held
        }
        for exchange in exchanges { exchange.respond(.text("released")) }
    }
}
