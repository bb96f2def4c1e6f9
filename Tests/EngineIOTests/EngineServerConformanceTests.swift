import EngineIO
import Foundation
import XCTest

/// The behaviours of the official engine.io-protocol v4 test suite (test-suite/test-suite.js), each run
/// against an in-process echo server configured as that suite expects (`TestEngineServer`: pingInterval
/// 300, pingTimeout 200, maxPayload 1000000) and driven over real sockets by blocking test clients.
///
/// Timing: every wait is bounded by a deadline of a few seconds; the only waits about time are the
/// heartbeat ones, which wait for the event with a deadline rather than sleeping. Clients answer the
/// server's pings where a test is not about the heartbeat, so a slow machine does not break them.
/// A few extra tests (packets per poll, 413, ordering, server-side close) use a long ping interval since
/// they are not about the heartbeat at all.
final class EngineServerConformanceTests: XCTestCase {
    // MARK: - Helpers

    /// A server with the test-suite configuration (optionally adjusted).
    private func makeServer(configure: (inout EngineServerOptions) -> Void = { _ in }) throws -> TestEngineServer {
        try TestEngineServer(configure: configure)
    }

    /// The options for tests that are not about the heartbeat.
    private static func quietHeartbeat(_ options: inout EngineServerOptions) {
        options.pingInterval = 60_000
        options.pingTimeout = 60_000
    }

    /// Polls once and returns the packets, answering (and dropping) any server ping like a client would.
    private func pollPackets(_ server: TestEngineServer, sid: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        let response = try server.poll(sid: sid)
        XCTAssertEqual(response.status, 200, "poll: \(response.text)", file: file, line: line)
        var packets = EngineTestPayload.packets(response.body)
        if packets.contains("2") {
            packets.removeAll { $0 == "2" }
            _ = try server.post(sid: sid, body: "3")
            if packets.isEmpty { return try self.pollPackets(server, sid: sid, file: file, line: line) }
        }
        return packets
    }

    /// Asserts a polling request was refused with 400 and the given Engine.IO error code.
    private func assertEngineError(_ response: TestHTTPResponse, code: Int, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(response.status, 400, response.text, file: file, line: line)
        guard let error = EngineTestPayload.errorBody(response) else {
            XCTFail("error body is not {\"code\":N,\"message\":\"...\"}: \(response.text)", file: file, line: line)
            return
        }
        XCTAssertEqual(error.code, code, response.text, file: file, line: line)
        XCTAssertFalse(error.message.isEmpty, file: file, line: line)
    }

    /// Asserts that a WebSocket opening handshake does not succeed: no 101, and the connection ends.
    private func assertWebSocketRefused(_ server: TestEngineServer, target: String, file: StaticString = #filePath, line: UInt = #line) throws {
        switch try TestWebSocketClient.attempt(port: server.port, target: target) {
        case .upgraded(let ws):
            XCTFail("\(target) was upgraded (101)", file: file, line: line)
            ws.close()
        case .rejected(let response):
            XCTAssertEqual(response.status, 400, "\(target): \(response.text)", file: file, line: line)
        case .closedWithoutResponse:
            break
        }
    }

    /// Opens a WebSocket session and returns the client and the handshake JSON of its open packet.
    private func openWebSocketSession(_ server: TestEngineServer) throws -> (TestWebSocketClient, [String: Any]) {
        let ws = try TestWebSocketClient.connect(port: server.port, target: server.websocketTarget())
        let first = try ws.nextMessage()
        guard case .text(let text) = first, let json = EngineTestPayload.handshakeJSON(text) else {
            throw TestClientError.protocolViolation("first WebSocket message is not an open packet: \(first)")
        }
        return (ws, json)
    }

    /// Upgrades a fresh polling session to WebSocket as the official client does (probe, noop poll,
    /// upgrade packet) and proves the upgrade took effect with an echo; returns the sid and the socket.
    private func upgradedSession(_ server: TestEngineServer, file: StaticString = #filePath, line: UInt = #line) throws -> (String, TestWebSocketClient) {
        let (sid, _) = try server.openPollingSession()
        let ws = try TestWebSocketClient.connect(port: server.port, target: server.websocketTarget(sid: sid))
        try ws.sendText("2probe")
        XCTAssertEqual(try ws.nextText(), "3probe", file: file, line: line)
        try ws.sendText("5")
        try ws.sendText("4hello")
        XCTAssertEqual(try ws.nextEngineMessage(), .text("4hello"), file: file, line: line)
        return (sid, ws)
    }

    // MARK: - Handshake: HTTP long-polling

    func testPollingHandshakeOpensSession() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        let response = try TestHTTPClient.request(port: server.port, method: "GET", target: server.pollingTarget())
        XCTAssertEqual(response.status, 200)
        XCTAssertTrue(response.text.hasPrefix("0"), response.text)
        let json = try XCTUnwrap(EngineTestPayload.handshakeJSON(response.text), response.text)
        XCTAssertEqual(Set(json.keys), ["sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"])
        let sid = try XCTUnwrap(json["sid"] as? String)
        XCTAssertFalse(sid.isEmpty)
        XCTAssertEqual(json["upgrades"] as? [String], ["websocket"])
        XCTAssertEqual(json["pingInterval"] as? Int, 300)
        XCTAssertEqual(json["pingTimeout"] as? Int, 200)
        XCTAssertEqual(json["maxPayload"] as? Int, 1_000_000)
    }

    func testPollingHandshakeFailsWithInvalidEIO() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        for target in ["/engine.io/?transport=polling", "/engine.io/?EIO=abc&transport=polling"] {
            let response = try TestHTTPClient.request(port: server.port, method: "GET", target: target)
            self.assertEngineError(response, code: 5)
        }
        XCTAssertEqual(server.engine.sessionCount, 0)
    }

    func testPollingHandshakeFailsWithInvalidTransport() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        for target in ["/engine.io/?EIO=4", "/engine.io/?EIO=4&transport=abc"] {
            let response = try TestHTTPClient.request(port: server.port, method: "GET", target: target)
            self.assertEngineError(response, code: 0)
        }
        XCTAssertEqual(server.engine.sessionCount, 0)
    }

    func testPollingHandshakeFailsWithInvalidRequestMethod() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        for method in ["POST", "PUT"] {
            let response = try TestHTTPClient.request(port: server.port, method: method, target: server.pollingTarget(), body: "")
            self.assertEngineError(response, code: 2)
        }
        XCTAssertEqual(server.engine.sessionCount, 0)
    }

    // MARK: - Handshake: WebSocket

    func testWebSocketHandshakeOpensSession() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        let (ws, json) = try self.openWebSocketSession(server)
        defer { ws.close() }
        XCTAssertEqual(Set(json.keys), ["sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"])
        XCTAssertFalse((json["sid"] as? String ?? "").isEmpty)
        XCTAssertEqual(json["upgrades"] as? [String], [])
        XCTAssertEqual(json["pingInterval"] as? Int, 300)
        XCTAssertEqual(json["pingTimeout"] as? Int, 200)
        XCTAssertEqual(json["maxPayload"] as? Int, 1_000_000)
    }

    func testWebSocketHandshakeFailsWithInvalidEIO() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        try self.assertWebSocketRefused(server, target: "/engine.io/?transport=websocket")
        try self.assertWebSocketRefused(server, target: "/engine.io/?EIO=abc&transport=websocket")
        XCTAssertEqual(server.engine.sessionCount, 0)
    }

    func testWebSocketHandshakeFailsWithInvalidTransport() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        try self.assertWebSocketRefused(server, target: "/engine.io/?EIO=4")
        try self.assertWebSocketRefused(server, target: "/engine.io/?EIO=4&transport=abc")
        XCTAssertEqual(server.engine.sessionCount, 0)
    }

    // MARK: - Messages: HTTP long-polling

    func testPollingSendsAndReceivesPlainTextPacket() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        let (sid, _) = try server.openPollingSession()
        let push = try server.post(sid: sid, body: "4hello")
        XCTAssertEqual(push.status, 200)
        XCTAssertEqual(push.text, "ok")
        XCTAssertEqual(try self.pollPackets(server, sid: sid), ["4hello"])
    }

    func testPollingSendsAndReceivesBinaryPacket() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        let (sid, _) = try server.openPollingSession()
        let push = try server.post(sid: sid, body: "bAQIDBA==")
        XCTAssertEqual(push.status, 200)
        XCTAssertEqual(push.text, "ok")
        XCTAssertEqual(try self.pollPackets(server, sid: sid), ["bAQIDBA=="])
    }

    func testPollingSendsAndReceivesTextAndBinaryPackets() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        let (sid, _) = try server.openPollingSession()
        let push = try server.post(sid: sid, body: "4hello\u{1E}bAQIDBA==")
        XCTAssertEqual(push.status, 200)
        XCTAssertEqual(push.text, "ok")
        XCTAssertEqual(try self.pollPackets(server, sid: sid), ["4hello", "bAQIDBA=="])
    }

    func testPollingSendsAndReceivesMultiplePackets() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        let (sid, _) = try server.openPollingSession()
        let push = try server.post(sid: sid, body: "4test1\u{1E}4test2\u{1E}4test3")
        XCTAssertEqual(push.status, 200)
        XCTAssertEqual(push.text, "ok")
        XCTAssertEqual(try self.pollPackets(server, sid: sid), ["4test1", "4test2", "4test3"])
    }

    func testPollingClosesSessionUponInvalidPacketFormat() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        let (sid, _) = try server.openPollingSession()
        let push = try server.post(sid: sid, body: "abc")
        XCTAssertEqual(push.status, 400, push.text)
        let poll = try server.poll(sid: sid)
        XCTAssertEqual(poll.status, 400, poll.text)
    }

    func testPollingClosesSessionUponDuplicatePollRequests() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        let (sid, _) = try server.openPollingSession()
        let first = try server.startPoll(sid: sid)
        server.drainLoops()
        let second = try server.startPoll(sid: sid)
        let answers = [try first.readResponse(), try second.readResponse()]
        // Normally the first waits and the second is the duplicate; if the second overtook the first on
        // another loop the roles swap. Either way: one poll ends with the close packet, the other is refused.
        let closing = answers.filter { $0.status == 200 }
        let refused = answers.filter { $0.status == 400 || $0.status == 500 }
        XCTAssertEqual(closing.count, 1, answers.map { "\($0.status) \($0.text)" }.description)
        XCTAssertEqual(refused.count, 1, answers.map { "\($0.status) \($0.text)" }.description)
        XCTAssertEqual(closing.first?.text, "1")
        let after = try server.poll(sid: sid)
        XCTAssertEqual(after.status, 400, after.text)
    }

    // MARK: - Messages: WebSocket

    func testWebSocketSendsAndReceivesPlainTextPacket() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        let (ws, _) = try self.openWebSocketSession(server)
        defer { ws.close() }
        try ws.sendText("4hello")
        XCTAssertEqual(try ws.nextEngineMessage(), .text("4hello"))
    }

    func testWebSocketSendsAndReceivesBinaryPacket() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        let (ws, _) = try self.openWebSocketSession(server)
        defer { ws.close() }
        try ws.sendBinary([1, 2, 3, 4])
        XCTAssertEqual(try ws.nextEngineMessage(), .binary([1, 2, 3, 4]))
    }

    func testWebSocketClosesConnectionUponInvalidPacketFormat() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        let (ws, json) = try self.openWebSocketSession(server)
        defer { ws.close() }
        try ws.sendText("abc")
        XCTAssertNotNil(ws.waitForClose(timeout: 3), "the server kept the connection open")
        let sid = try XCTUnwrap(json["sid"] as? String)
        XCTAssertTrue(TestDeadline.wait(timeout: 3) { server.closeReason(sid) != nil })
        XCTAssertEqual(server.closeReason(sid), .parseError)
    }

    // MARK: - Heartbeat

    func testPollingHeartbeat() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        let (sid, _) = try server.openPollingSession()
        for round in 1...3 {
            let poll = try server.poll(sid: sid)
            XCTAssertEqual(poll.status, 200, "round \(round)")
            XCTAssertEqual(poll.text, "2", "round \(round)")
            let pong = try server.post(sid: sid, body: "3")
            XCTAssertEqual(pong.status, 200, "round \(round)")
            XCTAssertEqual(pong.text, "ok", "round \(round)")
        }
        XCTAssertNil(server.closeReason(sid))
    }

    func testPollingPingTimeout() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        let start = Date()
        let (sid, _) = try server.openPollingSession()
        // pingInterval (300) + pingTimeout (200) without a pong ends the session; wait for it with a deadline.
        XCTAssertTrue(TestDeadline.wait(timeout: 3) { server.closeReason(sid) != nil }, "the session never timed out")
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(start), 0.45, "closed before pingInterval + pingTimeout")
        XCTAssertEqual(server.closeReason(sid), .pingTimeout)
        let poll = try server.poll(sid: sid)
        if poll.status == 200 {
            XCTAssertEqual(poll.text, "1")
        } else {
            XCTAssertEqual(poll.status, 400, poll.text)
        }
    }

    func testWebSocketHeartbeat() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        let (ws, json) = try self.openWebSocketSession(server)
        defer { ws.close() }
        for round in 1...3 {
            XCTAssertEqual(try ws.nextMessage(timeout: 3), .text("2"), "round \(round)")
            try ws.sendText("3")
        }
        XCTAssertNil(server.closeReason(try XCTUnwrap(json["sid"] as? String)))
    }

    func testWebSocketPingTimeout() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        let (ws, json) = try self.openWebSocketSession(server)
        defer { ws.close() }
        XCTAssertEqual(try ws.nextMessage(timeout: 3), .text("2"))
        // No pong: the server must close within pingTimeout (200 ms); allow a slow machine 2 s.
        XCTAssertNotNil(ws.waitForClose(timeout: 2), "the server did not close after the ping timeout")
        let sid = try XCTUnwrap(json["sid"] as? String)
        XCTAssertTrue(TestDeadline.wait(timeout: 2) { server.closeReason(sid) != nil })
        XCTAssertEqual(server.closeReason(sid), .pingTimeout)
    }

    // MARK: - Close

    func testPollingCloseFromClient() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        // The waiting poll must be parked before the close packet arrives. Nothing observable says it is,
        // so the loops are drained first; if the poll still lost the race (it is then refused with 400
        // because the session is gone), try again with a fresh session.
        for attempt in 1...4 {
            let (sid, _) = try server.openPollingSession()
            let poll = try server.startPoll(sid: sid)
            server.drainLoops()
            let push = try server.post(sid: sid, body: "1")
            XCTAssertEqual(push.status, 200, push.text)
            XCTAssertEqual(push.text, "ok")
            let answer = try poll.readResponse()
            if answer.status == 400 && attempt < 4 { continue }
            XCTAssertEqual(answer.status, 200, answer.text)
            if answer.text == "2" && attempt < 4 { continue }  // a slow run let the heartbeat in first
            XCTAssertEqual(answer.text, "6", "the waiting poll should end with a noop")
            let after = try server.poll(sid: sid)
            XCTAssertEqual(after.status, 400, after.text)
            // The delegate hears of the close just after the poll is answered: wait for it.
            XCTAssertTrue(TestDeadline.wait(timeout: 2) { server.closeReason(sid) != nil })
            XCTAssertEqual(server.closeReason(sid), .transportClose)
            return
        }
    }

    func testWebSocketCloseFromClient() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        let (ws, json) = try self.openWebSocketSession(server)
        defer { ws.close() }
        try ws.sendText("1")
        XCTAssertNotNil(ws.waitForClose(timeout: 3), "the server kept the connection open")
        let sid = try XCTUnwrap(json["sid"] as? String)
        XCTAssertTrue(TestDeadline.wait(timeout: 2) { server.closeReason(sid) != nil })
        XCTAssertEqual(server.closeReason(sid), .transportClose)
    }

    // MARK: - Upgrade

    func testUpgradeFromPollingToWebSocket() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        let (sid, _) = try server.openPollingSession()
        let ws = try TestWebSocketClient.connect(port: server.port, target: server.websocketTarget(sid: sid))
        defer { ws.close() }
        try ws.sendText("2probe")
        XCTAssertEqual(try ws.nextText(), "3probe")
        let poll = try server.poll(sid: sid)
        XCTAssertEqual(poll.status, 200)
        XCTAssertEqual(poll.text, "6", "a poll during the upgrade should be ended with a noop")
        try ws.sendText("5")
        try ws.sendText("4hello")
        XCTAssertEqual(try ws.nextEngineMessage(), .text("4hello"))
    }

    func testUpgradeEndsWaitingPollWithNoop() throws {
        let server = try self.makeServer(configure: Self.quietHeartbeat)
        defer { server.shutdown() }
        let (sid, _) = try server.openPollingSession()
        let waiting = try server.startPoll(sid: sid)
        server.drainLoops()
        let ws = try TestWebSocketClient.connect(port: server.port, target: server.websocketTarget(sid: sid))
        defer { ws.close() }
        try ws.sendText("2probe")
        XCTAssertEqual(try ws.nextText(), "3probe")
        // Whether the poll was parked before the probe (the usual case) or arrived after it, it ends with a noop.
        let answer = try waiting.readResponse()
        XCTAssertEqual(answer.status, 200)
        XCTAssertEqual(answer.text, "6")
        try ws.sendText("5")
        try ws.sendText("4hello")
        XCTAssertEqual(try ws.nextEngineMessage(), .text("4hello"))
    }

    func testPollingRequestsWithSameSidAfterUpgradeAreRejected() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        let (sid, ws) = try self.upgradedSession(server)
        defer { ws.close() }
        let poll = try server.poll(sid: sid)
        XCTAssertEqual(poll.status, 400, poll.text)
        let push = try server.post(sid: sid, body: "4hello")
        XCTAssertEqual(push.status, 400, push.text)
        // The WebSocket transport is unaffected.
        try ws.sendText("4still here")
        XCTAssertEqual(try ws.nextEngineMessage(), .text("4still here"))
    }

    func testWebSocketWithSameSidAfterUpgradeIsRefused() throws {
        let server = try self.makeServer()
        defer { server.shutdown() }
        let (sid, ws) = try self.upgradedSession(server)
        defer { ws.close() }
        switch try TestWebSocketClient.attempt(port: server.port, target: server.websocketTarget(sid: sid)) {
        case .upgraded(let second):
            defer { second.close() }
            XCTAssertNotNil(second.waitForClose(timeout: 3), "a second WebSocket for an upgraded session stayed open")
        case .rejected(let response):
            XCTAssertGreaterThanOrEqual(response.status, 400, response.text)
        case .closedWithoutResponse:
            break
        }
        try ws.sendText("4hello again")
        XCTAssertEqual(try ws.nextEngineMessage(), .text("4hello again"))
        XCTAssertNil(server.closeReason(sid))
    }

    // MARK: - Beyond the official suite

    func testPollingResponseCarriesAtMost16Packets() throws {
        let server = try self.makeServer(configure: Self.quietHeartbeat)
        defer { server.shutdown() }
        let (sid, _) = try server.openPollingSession()
        let sent = (0..<40).map { "4m\($0)" }
        let push = try server.post(sid: sid, body: sent.joined(separator: "\u{1E}"))
        XCTAssertEqual(push.status, 200)
        var received: [String] = []
        for expected in [16, 16, 8] {
            let poll = try server.poll(sid: sid)
            XCTAssertEqual(poll.status, 200)
            let packets = EngineTestPayload.packets(poll.body)
            XCTAssertEqual(packets.count, expected)
            received += packets
        }
        XCTAssertEqual(received, sent)
    }

    func testOversizedPollingPostIsRejectedWith413() throws {
        let server = try self.makeServer(configure: Self.quietHeartbeat)
        defer { server.shutdown() }
        let (sid, _) = try server.openPollingSession()
        let client = try TestHTTPClient(port: server.port)
        let body = [UInt8(ascii: "4")] + [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        do {
            try client.send(method: "POST", target: server.pollingTarget(sid: sid), body: body)
        } catch TestClientError.sendFailed {
            // The server may answer and close before the whole body is written; the answer is still readable.
        }
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 413, response.text)
    }

    func testWebSocketPreservesOrderOf1000Messages() throws {
        let server = try self.makeServer(configure: Self.quietHeartbeat)
        defer { server.shutdown() }
        let (ws, _) = try self.openWebSocketSession(server)
        defer { ws.close() }
        let sent = (0..<1000).map { "4message \($0)" }
        try ws.sendTexts(sent)
        var received: [String] = []
        for _ in sent {
            guard case .text(let text) = try ws.nextEngineMessage() else { break }
            received.append(text)
        }
        XCTAssertEqual(received.count, sent.count)
        XCTAssertEqual(received, sent)
    }

    func testWebSocketMessagesPipelinedBehindHandshakeAreEchoed() throws {
        let server = try self.makeServer(configure: Self.quietHeartbeat)
        defer { server.shutdown() }
        // Several connections, so that both loops accept some.
        for round in 0..<6 {
            let ws = try TestWebSocketClient.connect(port: server.port, target: server.websocketTarget(),
                                                     pipelinedTexts: ["4first \(round)", "4second \(round)"])
            defer { ws.close() }
            guard case .text(let open) = try ws.nextMessage() else { return XCTFail("no open packet") }
            XCTAssertNotNil(EngineTestPayload.handshakeJSON(open), open)
            XCTAssertEqual(try ws.nextEngineMessage(), .text("4first \(round)"))
            XCTAssertEqual(try ws.nextEngineMessage(), .text("4second \(round)"))
        }
    }

    func testUpgradeProbePipelinedBehindHandshakeIsAnswered() throws {
        let server = try self.makeServer(configure: Self.quietHeartbeat)
        defer { server.shutdown() }
        // The WebSocket often lands on the other loop than the session's and must move there first; the
        // probe sent with the handshake must survive the move. Several sessions make both cases likely.
        for round in 0..<6 {
            let (sid, _) = try server.openPollingSession()
            let ws = try TestWebSocketClient.connect(port: server.port, target: server.websocketTarget(sid: sid),
                                                     pipelinedTexts: ["2probe"])
            defer { ws.close() }
            XCTAssertEqual(try ws.nextText(), "3probe", "round \(round)")
            try ws.sendTexts(["5", "4hello \(round)"])
            XCTAssertEqual(try ws.nextEngineMessage(), .text("4hello \(round)"))
        }
    }

    func testPollingOverOneKeepAliveConnection() throws {
        let server = try self.makeServer(configure: Self.quietHeartbeat)
        defer { server.shutdown() }
        // Browsers reuse connections: handshake, POST and GET one after another on the same socket.
        let client = try TestHTTPClient(port: server.port)
        try client.send(method: "GET", target: server.pollingTarget())
        let handshake = try client.readResponse()
        let sid = try XCTUnwrap(EngineTestPayload.handshakeJSON(handshake.text)?["sid"] as? String, handshake.text)
        try client.send(method: "POST", target: server.pollingTarget(sid: sid), body: "4a\u{1E}4b")
        let push = try client.readResponse()
        XCTAssertEqual(push.status, 200)
        XCTAssertEqual(push.text, "ok")
        try client.send(method: "GET", target: server.pollingTarget(sid: sid))
        let poll = try client.readResponse()
        XCTAssertEqual(poll.status, 200)
        XCTAssertEqual(EngineTestPayload.packets(poll.body), ["4a", "4b"])
    }

    func testAbandonedPollClosesSession() throws {
        let server = try self.makeServer(configure: Self.quietHeartbeat)
        defer { server.shutdown() }
        let (sid, _) = try server.openPollingSession()
        let waiting = try server.startPoll(sid: sid)
        server.drainLoops()
        waiting.socket.close()
        XCTAssertTrue(TestDeadline.wait(timeout: 3) { server.closeReason(sid) != nil }, "the session outlived its poll's connection")
        XCTAssertEqual(server.closeReason(sid), .transportError)
    }

    func testServerSideCloseOfWebSocketSessionSendsCloseFrame() throws {
        let server = try self.makeServer(configure: Self.quietHeartbeat)
        defer { server.shutdown() }
        let (ws, json) = try self.openWebSocketSession(server)
        defer { ws.close() }
        let sid = try XCTUnwrap(json["sid"] as? String)
        server.onLoop(of: sid) { $0.close() }
        XCTAssertEqual(ws.waitForClose(timeout: 3), .close(code: 1000))
        XCTAssertTrue(TestDeadline.wait(timeout: 2) { server.closeReason(sid) != nil })
        XCTAssertEqual(server.closeReason(sid), .forcedClose)
    }

    func testServerSideCloseAnswersWaitingPollWithClosePacket() throws {
        let server = try self.makeServer(configure: Self.quietHeartbeat)
        defer { server.shutdown() }
        let (sid, _) = try server.openPollingSession()
        let waiting = try server.startPoll(sid: sid)
        server.drainLoops()
        server.onLoop(of: sid) { $0.close() }
        // Parked or not when the close happened, the poll must deliver the close packet.
        let answer = try waiting.readResponse()
        XCTAssertEqual(answer.status, 200)
        XCTAssertEqual(answer.text, "1")
        XCTAssertTrue(TestDeadline.wait(timeout: 2) { server.closeReason(sid) != nil })
        XCTAssertEqual(server.closeReason(sid), .forcedClose)
        let after = try server.poll(sid: sid)
        XCTAssertEqual(after.status, 400, after.text)
    }
}
