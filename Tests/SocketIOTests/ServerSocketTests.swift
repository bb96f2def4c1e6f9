import EngineIO
import Foundation
import SocketIO
import SocketIOTestSupport
import XCTest

/// One socket's behaviour: acknowledgements both ways, catch-all listeners, typed handlers, disconnect
/// reasons, several namespaces on one connection.
final class ServerSocketTests: XCTestCase {
    private var server: InProcessSocketIOServer!
    private let recorder = TestRecorder()

    private struct Greeting: Codable, Sendable {
        var name: String
        var count: Int
    }

    override func setUpWithError() throws {
        let recorder = self.recorder
        self.server = try TestSocketIOServer.make { io in
            io.on(.connection) { socket in
                socket.on(.disconnecting) { reason in recorder.record("disconnecting:\(reason):\(socket.rooms.sorted())") }
                socket.on(.disconnect) { reason in recorder.record("disconnect:\(reason)") }
                socket.on("ask") { args, _ in
                    let millis = args.first?.intValue ?? 200
                    socket.timeout(.milliseconds(millis)).emit("question", "?") { result in
                        switch result {
                        case .failure(let error): recorder.record("ask-error:\(error)")
                        case .success(let response): recorder.record("ask-answer:\(response)")
                        }
                    }
                }
                socket.on("ask-async") { _, _ in
                    Task {
                        do {
                            let response = try await socket.timeout(.seconds(2)).emitWithAck("question", 1)
                            recorder.record("async-answer:\(response)")
                        } catch {
                            recorder.record("async-error:\(error)")
                        }
                    }
                }
                socket.on("later") { args, ack in
                    // Answer from another thread after a while.
                    Task {
                        try? await Task.sleep(nanoseconds: 20_000_000)
                        ack?.send(arguments: args)
                    }
                }
                socket.on("greet", as: Greeting.self) { greeting, ack in
                    try? ack?.send(encoding: Greeting(name: greeting.name.uppercased(), count: greeting.count + 1))
                }
                socket.on("kick") { _, _ in socket.disconnect() }
                socket.on("kick-all") { _, _ in socket.disconnect(close: true) }
                socket.on("join") { args, ack in
                    socket.join(args.compactMap(\.stringValue))
                    ack?()
                }
                socket.on("volatile") { _, _ in
                    socket.emit("first")
                    socket.volatile.emit("second")
                }
                socket.on("reserved") { _, ack in
                    ack?(.bool(socket.emit("disconnect")))
                }
            }
            io.of("/other").on(.connection) { socket in
                socket.on("where") { _, ack in ack?(.string(socket.nsp.name)) }
                socket.on(.disconnect) { reason in recorder.record("other-disconnect:\(reason)") }
            }
            io.of("/listeners").on(.connection) { socket in
                let removable = socket.onAny { event, args in recorder.record("any-removed:\(event)") }
                socket.onAny { event, args in recorder.record("any:\(event):\(args.count)") }
                socket.prependAny { event, _ in recorder.record("first:\(event)") }
                socket.offAny(removable)
                socket.onAnyOutgoing { event, args in recorder.record("out:\(event):\(args)") }
                socket.on("ping-me") { _, _ in socket.emit("pong-you", 1) }
            }
        }
    }

    override func tearDown() {
        self.server.shutdown()
        self.server = nil
    }

    private func connected(_ namespace: String = "/") throws -> SIOTestClient {
        let client = try SIOTestClient(port: self.server.port)
        try client.connectNamespace(namespace)
        return client
    }

    // MARK: Acknowledgements

    func testServerEmitWithAckTimesOut() throws {
        let client = try self.connected()
        try client.send(#"42["ask",150]"#)
        XCTAssertEqual(try client.nextText(), #"421["question","?"]"#)
        XCTAssertTrue(self.recorder.wait(for: "ask-error:operation has timed out"), "\(self.recorder.all)")
        // A late answer is ignored.
        try client.send(#"431["late"]"#)
        XCTAssertFalse(self.recorder.all.contains { $0.hasPrefix("ask-answer") })
    }

    func testServerEmitWithAckGetsAnswerBeforeTimeout() throws {
        let client = try self.connected()
        try client.send(#"42["ask",2000]"#)
        XCTAssertEqual(try client.nextText(), #"421["question","?"]"#)
        try client.send(#"431["yes",2]"#)
        XCTAssertTrue(self.recorder.wait(for: #"ask-answer:["yes", 2]"#), "\(self.recorder.all)")
    }

    func testAsyncEmitWithAckFromATask() throws {
        let client = try self.connected()
        try client.send(#"42["ask-async"]"#)
        XCTAssertEqual(try client.nextText(), #"421["question",1]"#)
        try client.send(#"431[{"ok":true}]"#)
        XCTAssertTrue(self.recorder.wait(for: #"async-answer:[{"ok":true}]"#), "\(self.recorder.all)")
    }

    func testPendingAckFailsWhenTheSocketDisconnects() throws {
        let client = try self.connected()
        try client.send(#"42["ask-async"]"#)
        _ = try client.nextText()
        try client.send("41")
        XCTAssertTrue(self.recorder.wait(for: "async-error:socket has been disconnected"), "\(self.recorder.all)")
    }

    func testAckAnsweredFromAnotherThread() throws {
        let client = try self.connected()
        try client.send(#"4212["later","a",{"b":[1]}]"#)
        XCTAssertEqual(try client.nextText(), #"4312["a",{"b":[1]}]"#)
    }

    func testTypedHandlerDecodesAndAnswersCodable() throws {
        let client = try self.connected()
        try client.send(#"425["greet",{"name":"ada","count":1}]"#)
        let answer = try client.nextText()
        XCTAssertTrue(answer.hasPrefix("435["), answer)
        let object = (SIOTestClient.json(String(answer.dropFirst(3))) as? [Any])?.first as? [String: Any]
        XCTAssertEqual(object?["name"] as? String, "ADA")
        XCTAssertEqual(object?["count"] as? Int, 2)
    }

    func testReservedEventNamesAreNotEmitted() throws {
        let client = try self.connected()
        try client.send(#"421["reserved"]"#)
        XCTAssertEqual(try client.nextText(), "431[false]")
    }

    // MARK: Listeners

    func testOnAnyOnAnyOutgoingPrependAnyAndOffAny() throws {
        let client = try self.connected("/listeners")
        try client.send(#"42/listeners,["ping-me","x","y"]"#)
        XCTAssertEqual(try client.nextText(), #"42/listeners,["pong-you",1]"#)
        XCTAssertTrue(self.recorder.wait(for: "out:pong-you:[1]"), "\(self.recorder.all)")
        let seen = self.recorder.all.filter { !$0.hasPrefix("out:") }
        XCTAssertEqual(seen, ["first:ping-me", "any:ping-me:2"])
    }

    // MARK: Namespaces

    func testSeveralNamespacesShareOneConnection() throws {
        let client = try self.connected()
        let otherSID = try client.connectNamespace("/other")
        XCTAssertFalse(otherSID.isEmpty)
        try client.send(#"42/other,7["where"]"#)
        XCTAssertEqual(try client.nextText(), #"43/other,7["/other"]"#)
        try client.send("41/other")
        XCTAssertTrue(self.recorder.wait(for: "other-disconnect:client namespace disconnect"))
        // The main namespace still works.
        try client.send(#"428["join","r"]"#)
        XCTAssertEqual(try client.nextText(), "438[]")
    }

    func testPacketForANamespaceNotJoinedClosesTheConnection() throws {
        let client = try self.connected()
        try client.send(#"42/other,["where"]"#)
        XCTAssertTrue(client.waitForClose())
        XCTAssertTrue(self.recorder.wait(for: "disconnect:forced server close"), "\(self.recorder.all)")
    }

    // MARK: Disconnect reasons

    func testClientNamespaceDisconnectReason() throws {
        let client = try self.connected()
        try client.send(#"421["join","room1"]"#)
        _ = try client.nextText()
        try client.send("41")
        XCTAssertTrue(self.recorder.wait(for: "disconnect:client namespace disconnect"))
        let disconnecting = self.recorder.all.first { $0.hasPrefix("disconnecting:") } ?? ""
        XCTAssertTrue(disconnecting.contains("\"room1\""), "rooms are still known while disconnecting: \(disconnecting)")
    }

    func testServerNamespaceDisconnectSendsDisconnectPacket() throws {
        let client = try self.connected()
        try client.send(#"42["kick"]"#)
        XCTAssertEqual(try client.nextText(), "41")
        XCTAssertTrue(self.recorder.wait(for: "disconnect:server namespace disconnect"))
    }

    func testDisconnectWithCloseEndsTheConnection() throws {
        let client = try self.connected()
        try client.connectNamespace("/other")
        try client.send(#"42["kick-all"]"#)
        var packets: [String] = []
        while case .text(let text) = try client.next() { packets.append(text) }
        XCTAssertEqual(Set(packets), ["41", "41/other,"])
        XCTAssertTrue(self.recorder.wait(for: "disconnect:server namespace disconnect"))
        XCTAssertTrue(self.recorder.wait(for: "other-disconnect:server namespace disconnect"))
    }

    func testTransportCloseReason() throws {
        let client = try self.connected()
        try client.sendClose()
        XCTAssertTrue(self.recorder.wait(for: "disconnect:transport close"), "\(self.recorder.all)")
    }

    func testParseErrorReason() throws {
        let client = try self.connected()
        try client.send("4zzz")
        XCTAssertTrue(client.waitForClose())
        XCTAssertTrue(self.recorder.wait(for: "disconnect:parse error"), "\(self.recorder.all)")
    }

    func testServerShutdownReason() throws {
        let client = try self.connected()
        self.server.io.close()
        XCTAssertTrue(client.waitForClose())
        XCTAssertTrue(self.recorder.wait(for: "disconnect:server shutting down"), "\(self.recorder.all)")
    }

    func testPingTimeoutReason() throws {
        let reasons = TestRecorder()
        let server = try TestSocketIOServer.make(engineOptions: { options in
            options.pingInterval = 100
            options.pingTimeout = 100
        }) { io in
            io.on(.connection) { socket in socket.on(.disconnect) { reasons.record("\($0)") } }
        }
        defer { server.shutdown() }
        let client = try SIOTestClient(port: server.port)
        try client.connectNamespace("/")
        client.answerPings = false
        XCTAssertTrue(client.waitForClose(timeout: 3))
        XCTAssertTrue(reasons.wait(for: "ping timeout"), "\(reasons.all)")
    }

    // MARK: Volatile

    func testVolatileEmitIsDroppedWhilePollingOutputIsQueued() throws {
        let http = try SIOTestHTTP(port: self.server.port)
        let target = try http.openPollingSessionOnMainNamespace()
        // No poll is waiting: "first" is queued, so the volatile "second" is dropped.
        XCTAssertEqual(try http.request("POST", target, body: #"42["volatile"]"#).body, "ok")
        usleep(100_000)
        XCTAssertEqual(try http.request("GET", target).body, #"42["first"]"#)
    }
}
