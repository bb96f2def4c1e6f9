import CTestCounters
import EngineIO
import Foundation
@testable import SocketIO
import SocketIOBenchmarkApp
import Transport
import XCTest

/// Performance guards for the HTTP side, counted on the event loop's thread like `EchoAllocationTests`:
/// heap allocations and socket system calls per long-polling `echo` (a POST carrying the message, answered
/// `ok`, and the held GET that carries the echo back) and per new WebSocket connection (101 answer, open
/// packet, namespace connect, close). The budgets sit a little above what the server does today (debug
/// build, `swift test`); lower them when the server gets leaner.
final class PollingHandshakeCostTests: XCTestCase {
    /// Allocations per polling echo: two requests parsed and answered, the packet decoded and encoded.
    static let pollingAllocationBudget = 64.0
    /// Socket calls per polling echo: a read and a write for each of the two requests, plus loop waits.
    static let pollingSystemCallBudget = 6.0
    /// Allocations per WebSocket connection: accepted, upgraded, Engine.IO and Socket.IO sessions, closed.
    static let handshakeAllocationBudget = 225.0
    /// Socket calls per WebSocket connection.
    static let handshakeSystemCallBudget = 12.5

    static let payload = String(repeating: "x", count: 32)

    override func setUpWithError() throws {
        try XCTSkipUnless(ctc_interposed() != 0, "malloc interposition is not in effect in this test binary")
    }

    func testPollingEchoCosts() throws {
        let server = try TestSocketIOServer.make(loops: 1) { BenchmarkApp.install(on: $0) }
        defer { server.shutdown() }
        let poller = try SIOTestHTTP(port: server.port)
        let poster = try SIOTestHTTP(port: server.port)
        let open = try poller.request("GET", "/socket.io/?EIO=4&transport=polling")
        let sid = try XCTUnwrap((SIOTestClient.json(String(open.body.dropFirst())) as? [String: Any])?["sid"] as? String)
        let target = "/socket.io/?EIO=4&transport=polling&sid=\(sid)"
        XCTAssertEqual(try poster.request("POST", target, body: "40").body, "ok")
        XCTAssertTrue(try poller.request("GET", target).body.hasPrefix("40{\"sid\""))
        var next = 0
        func echo() throws {
            next += 1
            let packet = #"42["echo",\#(next),"\#(Self.payload)"]"#
            try poller.send("GET", target)
            XCTAssertEqual(try poster.request("POST", target, body: packet).body, "ok")
            XCTAssertEqual(try poller.response().body, packet)
        }
        for _ in 0..<50 { try echo() }
        let rounds = 200
        let counts = try EchoAllocationTests.counting(on: server.group.loops[0]) {
            for _ in 0..<rounds { try echo() }
        }
        let allocations = Double(counts.allocations) / Double(rounds)
        let calls = Double(counts.sends + counts.receives + counts.waits) / Double(rounds)
        print("polling echo: \(allocations) allocations, \(calls) system calls per message "
              + "(sends \(counts.sends), receives \(counts.receives), waits \(counts.waits), messages \(rounds))")
        XCTAssertLessThanOrEqual(allocations, Self.pollingAllocationBudget, "a polling echo allocates more than before")
        XCTAssertLessThanOrEqual(calls, Self.pollingSystemCallBudget, "a polling echo makes more system calls than before")
    }

    func testWebSocketHandshakeCosts() throws {
        let server = try TestSocketIOServer.make(loops: 1) { BenchmarkApp.install(on: $0) }
        defer { server.shutdown() }
        func connection() throws {
            let client = try SIOTestClient(port: server.port)
            try client.connectNamespace()
            try client.sendClose()
            XCTAssertTrue(client.waitForClose(timeout: 3))
        }
        for _ in 0..<20 { try connection() }
        let rounds = 100
        let counts = try EchoAllocationTests.counting(on: server.group.loops[0]) {
            for _ in 0..<rounds { try connection() }
        }
        let allocations = Double(counts.allocations) / Double(rounds)
        let calls = Double(counts.sends + counts.receives + counts.waits) / Double(rounds)
        print("websocket connection: \(allocations) allocations, \(calls) system calls "
              + "(sends \(counts.sends), receives \(counts.receives), waits \(counts.waits), connections \(rounds))")
        XCTAssertLessThanOrEqual(allocations, Self.handshakeAllocationBudget, "a new connection allocates more than before")
        XCTAssertLessThanOrEqual(calls, Self.handshakeSystemCallBudget, "a new connection makes more system calls than before")
    }
}
