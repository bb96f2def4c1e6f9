import Dispatch
import EngineIO
import XCTest

/// What happens to messages queued on a polling session, waiting for the next poll, when the session changes:
/// an upgrade to WebSocket keeps each message's `compress: false` (seen in the RSV1 bit of the frames), and a
/// server shutdown lets the next poll carry them before the close packet, as Node's server does.
final class QueuedPollingOutputTests: XCTestCase {
    private func makeServer() throws -> TestEngineServer {
        try TestEngineServer { options in
            options.perMessageDeflate = true
            options.perMessageDeflateThreshold = 0  // everything compressed unless asked otherwise
            options.pingInterval = 60_000
            options.pingTimeout = 60_000
        }
    }

    /// Runs `body` on the session's loop and waits until it has run.
    private func onLoop(_ server: TestEngineServer, _ sid: String, _ body: @escaping @Sendable (EngineSession) -> Void) {
        let done = DispatchSemaphore(value: 0)
        server.onLoop(of: sid) { session in
            body(session)
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success, "the session's loop did not run the work")
    }

    func testCompressFalseSurvivesTheUpgrade() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        let (sid, _) = try server.openPollingSession()
        let long = String(repeating: "y", count: 2048)
        let binary = [UInt8](repeating: 9, count: 2048)
        // No poll is waiting: the messages stay queued until the upgrade hands them to the WebSocket.
        self.onLoop(server, sid) { session in
            session.send(text: Array(long.utf8), compress: false)
            session.send(text: Array(long.utf8))
            session.send(binary: binary, compress: false)
            session.send(binary: binary)
        }
        let ws = try TestDeflateWebSocketClient(port: server.port, target: server.websocketTarget(sid: sid))
        defer { ws.close() }
        XCTAssertEqual(ws.negotiated, "permessage-deflate")
        try ws.sendText("2probe")
        XCTAssertEqual(try ws.nextMessage().text, "3probe")
        try ws.sendText("5")

        let plainText = try ws.nextMessage()
        XCTAssertFalse(plainText.compressed, "compress(false) was lost in the upgrade")
        XCTAssertEqual(plainText.text, "4" + long)
        let compressedText = try ws.nextMessage()
        XCTAssertTrue(compressedText.compressed)
        XCTAssertEqual(compressedText.text, "4" + long)
        let plainBinary = try ws.nextMessage()
        XCTAssertFalse(plainBinary.compressed, "compress(false) was lost in the upgrade")
        XCTAssertEqual(plainBinary.bytes, binary)
        let compressedBinary = try ws.nextMessage()
        XCTAssertTrue(compressedBinary.compressed)
        XCTAssertEqual(compressedBinary.bytes, binary)
    }

    func testCompressFalseOfALaterMessageSurvivesAPollThatTookEarlierOnes() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        let (sid, _) = try server.openPollingSession()
        let long = String(repeating: "z", count: 2048)
        self.onLoop(server, sid) { session in session.send(text: "first") }
        let poll = try server.poll(sid: sid)
        XCTAssertEqual(EngineTestPayload.packets(poll.body), ["4first"])
        self.onLoop(server, sid) { session in
            session.send(text: Array(long.utf8))
            session.send(text: Array(long.utf8), compress: false)
        }
        let ws = try TestDeflateWebSocketClient(port: server.port, target: server.websocketTarget(sid: sid))
        defer { ws.close() }
        try ws.sendText("2probe")
        XCTAssertEqual(try ws.nextMessage().text, "3probe")
        try ws.sendText("5")
        XCTAssertTrue(try ws.nextMessage().compressed)
        let plain = try ws.nextMessage()
        XCTAssertFalse(plain.compressed, "the flag moved to another message after a poll")
        XCTAssertEqual(plain.text, "4" + long)
    }

    func testAMessageSentJustBeforeShutdownReachesThePollingClient() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        let (sid, _) = try server.openPollingSession()
        // Between two polls (none waiting), a message and then the server's shutdown of every session.
        self.onLoop(server, sid) { session in
            session.send(text: "bye")
            server.engine.closeAllSessions()
        }
        let poll = try server.poll(sid: sid)
        XCTAssertEqual(poll.status, 200, poll.text)
        XCTAssertEqual(EngineTestPayload.packets(poll.body), ["4bye", "1"], "the message before the close was lost")
        XCTAssertTrue(TestDeadline.wait(timeout: 2) { server.closeReason(sid) != nil })
        XCTAssertEqual(server.closeReason(sid), .serverShutdown)
    }

    func testShutdownWithNothingQueuedEndsThePollingSessionAtOnce() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        let (sid, _) = try server.openPollingSession()
        self.onLoop(server, sid) { _ in server.engine.closeAllSessions() }
        // Well within closeTimeout (30 s), the time a session with something queued waits for its poll.
        XCTAssertTrue(TestDeadline.wait(timeout: 2) { server.closeReason(sid) != nil }, "shutdown waited for a poll")
        XCTAssertEqual(server.closeReason(sid), .serverShutdown)
        let poll = try server.poll(sid: sid)
        XCTAssertEqual(poll.status, 400, poll.text)
    }

    /// A session still waiting for the poll that would carry its queue and close packet when the loops stop
    /// ends then (its delegate is told, the registry lets go of it) and is freed: LeakSanitizer found it in a
    /// cycle with the registry, its close timer dropped unfired with the loop.
    func testASessionWaitingForItsLastPollEndsWhenTheLoopsStop() throws {
        var server: TestEngineServer? = try self.makeServer()
        let (sid, _) = try XCTUnwrap(server).openPollingSession()
        weak var weakSession: EngineSession?
        try XCTUnwrap(server).onLoop(of: sid) { session in session.send(text: "never polled") }
        weakSession = server?.session(sid)
        XCTAssertNotNil(weakSession)
        server?.shutdown()
        XCTAssertEqual(server?.closeReason(sid), .serverShutdown)
        XCTAssertEqual(server?.engine.sessionCount, 0)
        server = nil
        XCTAssertNil(weakSession, "the closed session is still held")
    }
}
