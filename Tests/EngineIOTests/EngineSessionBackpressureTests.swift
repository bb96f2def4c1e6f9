import Foundation
import Synchronization
import XCTest

@testable import EngineIO
@testable import HTTPKit
@testable import Transport

/// `maxBackpressure` at the session level: a WebSocket client that stops reading and a polling client that
/// stops polling are closed with "transport error"; volatile sends see the congestion first; one message
/// larger than the cap still goes through.
final class EngineSessionBackpressureTests: XCTestCase {
    private var server: TestEngineServer!

    override func tearDown() {
        self.server?.shutdown()
        // XCTest keeps every test case until the process exits: let go of the server and its loops.
        self.server = nil
        super.tearDown()
    }

    private func start(cap: Int) throws {
        self.server = try TestEngineServer(loops: 1) { options in
            options.pingInterval = 60_000
            options.pingTimeout = 60_000
            options.maxBackpressure = cap
        }
    }

    /// Runs `body` with the session on its loop and waits for it (and the flush after it).
    @discardableResult
    private func onSession<T: Sendable>(_ id: String, _ body: @escaping @Sendable (EngineSession) -> T) -> T? {
        guard let session = self.server.session(id) else { return nil }
        let result = Mutex<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        session.loop.execute {
            result.withLock { $0 = body(session) }
            done.signal()
        }
        done.wait()
        let flushed = DispatchSemaphore(value: 0)
        session.loop.execute { flushed.signal() }
        flushed.wait()
        return result.withLock { $0 }
    }

    func testWebSocketClientThatStopsReadingIsClosedWithTransportError() throws {
        try self.start(cap: 256 * 1024)
        let ws = try TestWebSocketClient.connect(port: self.server.port, target: self.server.websocketTarget())
        defer { ws.close() }
        let open = try ws.nextText()
        let sid = try XCTUnwrap(EngineTestPayload.handshakeJSON(open)?["sid"] as? String)
        let message = [UInt8](repeating: 0x61, count: 64 * 1024)
        var sawCongestion = false
        var sent = 0
        // The kernel's buffers take a few MB on loopback; the cap closes the session a little after them.
        while sent < 256 * 1024 * 1024, self.server.closeReason(sid) == nil {
            let congested = self.onSession(sid) { session -> Bool in
                session.send(text: message)
                return session.hasPendingOutput
            }
            if congested == true { sawCongestion = true }
            sent += message.count
        }
        XCTAssertTrue(TestDeadline.wait(timeout: 5) { self.server.closeReason(sid) != nil })
        XCTAssertEqual(self.server.closeReason(sid), .transportError)
        XCTAssertTrue(sawCongestion, "volatile sends are dropped before the cap is reached")
        XCTAssertEqual(self.server.group.outputBudget.totalBytes, 0)
    }

    func testPollingClientThatStopsPollingIsClosedAtTheCap() throws {
        try self.start(cap: 64 * 1024)
        let (sid, _) = try self.server.openPollingSession()
        // One message larger than the cap waits for the next poll.
        self.onSession(sid) { $0.send(text: [UInt8](repeating: 0x62, count: 200 * 1024)) }
        XCTAssertNil(self.server.closeReason(sid))
        let response = try self.server.poll(sid: sid)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body.count, 200 * 1024 + 1)
        // Then nobody polls while small messages keep coming.
        var sent = 0
        while sent < 1024 * 1024, self.server.closeReason(sid) == nil {
            self.onSession(sid) { $0.send(text: [UInt8](repeating: 0x63, count: 1024)) }
            sent += 1024
        }
        XCTAssertEqual(self.server.closeReason(sid), .transportError)
        XCTAssertGreaterThan(sent, 64 * 1024)
        XCTAssertLessThan(sent, 80 * 1024)
    }

    func testVolatileCheckOnPollingSeesQueuedPackets() throws {
        try self.start(cap: 64 * 1024)
        let (sid, _) = try self.server.openPollingSession()
        XCTAssertEqual(self.onSession(sid) { $0.hasPendingOutput }, false)
        XCTAssertEqual(self.onSession(sid) { session -> Bool in
            session.send(text: "queued")
            return session.hasPendingOutput
        }, true)
    }
}
