import EngineIO
import Foundation
import SocketIO
import SocketIOTestSupport
import XCTest

/// Connection state recovery with the in-memory adapter, seen on the wire by a raw client: the CONNECT answer
/// carries a `pid`, broadcasts an offset, and a client that comes back with `{pid, offset}` gets its socket
/// back with the broadcasts it missed.
final class ServerRecoveryTests: XCTestCase {
    private var server: InProcessSocketIOServer?
    private let recorder = TestRecorder()
    private static let user = SocketDataKey<String>("user")

    override func tearDown() {
        self.server?.shutdown()
        self.server = nil
    }

    /// A server whose `/` middleware counts its runs, and whose sockets join `room-a`, keep their first auth
    /// name in `data`, and report connects (id, recovered, rooms, data) and disconnects.
    private func start(_ configure: (inout ConnectionStateRecoveryOptions) -> Void = { _ in },
                       enabled: Bool = true) throws -> InProcessSocketIOServer {
        let recorder = self.recorder
        var recovery = ConnectionStateRecoveryOptions()
        configure(&recovery)
        let server = try TestSocketIOServer.make(options: { $0.connectionStateRecovery = enabled ? recovery : nil }) { io in
            io.use { _, next in
                recorder.record("middleware")
                next(nil)
            }
            io.on(.connection) { socket in
                if !socket.recovered {
                    socket.join("room-a")
                    socket.data[Self.user] = socket.handshake.auth["name"]?.stringValue ?? "?"
                }
                let rooms = socket.rooms.subtracting([socket.id]).sorted().joined(separator: ",")
                recorder.record("connect:\(socket.id):\(socket.recovered):\(rooms):\(socket.data[Self.user] ?? "-")")
                socket.on(.disconnect) { reason in recorder.record("disconnect:\(socket.id):\(reason)") }
                if socket.handshake.auth["greet"] != nil { socket.emit("direct", 1) }
            }
        }
        self.server = server
        return server
    }

    /// Connects `/` and returns the CONNECT answer's object.
    private func connect(_ client: SIOTestClient, auth: String) throws -> [String: Any] {
        try client.send("40" + auth)
        let reply = try client.nextText()
        guard reply.hasPrefix("40"), let object = SIOTestClient.json(String(reply.dropFirst(2))) as? [String: Any] else {
            throw SIOTestError.unexpected("CONNECT reply \(reply)")
        }
        return object
    }

    /// The arguments of an EVENT packet of `/`.
    private func eventArguments(_ text: String) throws -> [Any] {
        guard text.hasPrefix("42"), let values = SIOTestClient.json(String(text.dropFirst(2))) as? [Any] else {
            throw SIOTestError.unexpected("EVENT \(text)")
        }
        return values
    }

    private func waitFor(_ prefix: String) {
        XCTAssertTrue(self.recorder.wait { $0.contains { $0.hasPrefix(prefix) } }, "no \(prefix) in \(self.recorder.all)")
    }

    /// Connects, receives one broadcast, then loses its TCP connection; returns (sid, pid, last offset).
    private func connectAndDrop(_ server: InProcessSocketIOServer) throws -> (sid: String, pid: String, offset: String) {
        let client = try SIOTestClient(port: server.port)
        let answer = try self.connect(client, auth: #"{"name":"ada"}"#)
        let sid = try XCTUnwrap(answer["sid"] as? String)
        let pid = try XCTUnwrap(answer["pid"] as? String, "the CONNECT answer carries a private session id")
        XCTAssertNotEqual(sid, pid)
        self.waitFor("connect:\(sid):false:room-a:ada")
        server.io.emit("tick", 1)
        let first = try self.eventArguments(client.nextText())
        XCTAssertEqual(first.count, 3, "event, argument, offset")
        let offset = try XCTUnwrap(first.last as? String)
        client.close()
        self.waitFor("disconnect:\(sid):transport")
        return (sid, pid, offset)
    }

    func testMissedBroadcastsAreReplayedInOrderWithRoomsAndData() throws {
        let server = try self.start()
        let (sid, pid, offset) = try self.connectAndDrop(server)
        // While it is away: two broadcasts it would have got, three it would not have.
        server.io.emit("tick", 2)
        server.io.to("room-a").emit("room", "a")
        server.io.to("room-b").emit("room", "b")
        server.io.except("room-a").emit("not-a")
        server.io.volatile.emit("volatile")
        server.io.to(sid).emit("private", 3)

        let again = try SIOTestClient(port: server.port)
        let answer = try self.connect(again, auth: #"{"pid":"\#(pid)","offset":"\#(offset)"}"#)
        XCTAssertEqual(answer["sid"] as? String, sid, "the old socket id comes back")
        XCTAssertEqual(answer["pid"] as? String, pid)
        var replayed: [String] = []
        var offsets: [String] = []
        for _ in 0..<3 {
            let values = try self.eventArguments(again.nextText())
            replayed.append(values.dropLast().map { "\($0)" }.joined(separator: " "))
            offsets.append(try XCTUnwrap(values.last as? String))
        }
        XCTAssertEqual(replayed, ["tick 2", "room a", "private 3"])
        XCTAssertEqual(Set(offsets).count, 3)
        self.waitFor("connect:\(sid):true:room-a:ada")
        XCTAssertEqual(self.recorder.count("middleware"), 1, "skipMiddlewares: a recovered socket skips them")

        // Live broadcasts continue with offsets, and the socket is in its old room.
        server.io.to("room-a").emit("live")
        let live = try self.eventArguments(again.nextText())
        XCTAssertEqual(live.first as? String, "live")
        XCTAssertEqual(live.count, 2)
    }

    func testASessionIsRecoveredOnlyOnce() throws {
        let server = try self.start()
        let (sid, pid, offset) = try self.connectAndDrop(server)
        let auth = #"{"pid":"\#(pid)","offset":"\#(offset)"}"#
        let first = try SIOTestClient(port: server.port)
        XCTAssertEqual(try self.connect(first, auth: auth)["sid"] as? String, sid)
        let second = try SIOTestClient(port: server.port)
        let other = try self.connect(second, auth: auth)
        XCTAssertNotEqual(other["sid"] as? String, sid)
        XCTAssertNotEqual(other["pid"] as? String, pid, "a new socket gets a new private session id")
    }

    func testUnknownOffsetGivesANewSocket() throws {
        let server = try self.start()
        let (sid, pid, _) = try self.connectAndDrop(server)
        let again = try SIOTestClient(port: server.port)
        let answer = try self.connect(again, auth: #"{"pid":"\#(pid)","offset":"nope"}"#)
        let newID = try XCTUnwrap(answer["sid"] as? String)
        XCTAssertNotEqual(newID, sid)
        self.waitFor("connect:\(newID):false:room-a:?")
        XCTAssertEqual(self.recorder.count("middleware"), 2)
    }

    func testSessionExpiresAfterMaxDisconnectionDuration() throws {
        let server = try self.start { $0.maxDisconnectionDuration = 200 }
        let (sid, pid, offset) = try self.connectAndDrop(server)
        // Expiry is the behaviour under test: the wait must outlast the duration.
        Thread.sleep(forTimeInterval: 0.4)
        let again = try SIOTestClient(port: server.port)
        let answer = try self.connect(again, auth: #"{"pid":"\#(pid)","offset":"\#(offset)"}"#)
        XCTAssertNotEqual(answer["sid"] as? String, sid)
    }

    func testOffsetPushedOutByThePacketCapGivesANewSocket() throws {
        let server = try self.start { $0.maxStoredPackets = 2 }
        let (sid, pid, offset) = try self.connectAndDrop(server)
        server.io.emit("tick", 2)
        server.io.emit("tick", 3)
        let again = try SIOTestClient(port: server.port)
        let answer = try self.connect(again, auth: #"{"pid":"\#(pid)","offset":"\#(offset)"}"#)
        XCTAssertNotEqual(answer["sid"] as? String, sid, "the missed packets are no longer all known")
    }

    func testMiddlewaresRunForARecoveredSocketWhenNotSkipped() throws {
        let server = try self.start { $0.skipMiddlewares = false }
        let (sid, pid, offset) = try self.connectAndDrop(server)
        let again = try SIOTestClient(port: server.port)
        XCTAssertEqual(try self.connect(again, auth: #"{"pid":"\#(pid)","offset":"\#(offset)"}"#)["sid"] as? String, sid)
        self.waitFor("connect:\(sid):true:room-a:ada")
        XCTAssertEqual(self.recorder.count("middleware"), 2)
    }

    func testClientNamespaceDisconnectDropsTheSession() throws {
        let server = try self.start()
        let client = try SIOTestClient(port: server.port)
        let answer = try self.connect(client, auth: "")
        let sid = try XCTUnwrap(answer["sid"] as? String)
        let pid = try XCTUnwrap(answer["pid"] as? String)
        server.io.emit("tick", 1)
        let offset = try XCTUnwrap(try self.eventArguments(client.nextText()).last as? String)
        try client.send("41")
        self.waitFor("disconnect:\(sid):client namespace disconnect")
        try client.send(#"40{"pid":"\#(pid)","offset":"\#(offset)"}"#)
        let reply = try client.nextText()
        XCTAssertFalse(reply.contains(sid), "a deliberate disconnect is not recoverable: \(reply)")
    }

    func testOffByDefaultNoPidAndNoOffset() throws {
        let server = try self.start(enabled: false)
        let client = try SIOTestClient(port: server.port)
        let answer = try self.connect(client, auth: "")
        XCTAssertNil(answer["pid"])
        server.io.emit("tick", 1)
        XCTAssertEqual(try client.nextText(), #"42["tick",1]"#)
    }

    func testAcknowledgedAndDirectEmitsCarryNoOffset() throws {
        let server = try self.start()
        let client = try SIOTestClient(port: server.port)
        _ = try self.connect(client, auth: #"{"greet":true}"#)
        XCTAssertEqual(try client.nextText(), #"42["direct",1]"#)
        server.io.timeout(.seconds(1)).emit("asked", 2) { _, _ in }
        XCTAssertEqual(try client.nextText(), #"421["asked",2]"#)
    }
}
