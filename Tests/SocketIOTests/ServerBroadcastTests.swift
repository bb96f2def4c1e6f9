import EngineIO
import Foundation
import SocketIO
import SocketIOTestSupport
import XCTest

/// Rooms, broadcasts across loops and bulk operations (`fetchSockets`, `socketsJoin`, `disconnectSockets`).
final class ServerBroadcastTests: XCTestCase {
    private var server: InProcessSocketIOServer!
    private let recorder = TestRecorder()

    override func setUpWithError() throws {
        let recorder = self.recorder
        // Per-loop sockets (`.evenHash`): the kernel hashes clients over both loops, so broadcasts cross loops
        // (the default placement would keep every client of an idle server on the first loop).
        self.server = try TestSocketIOServer.make(spread: .evenHash) { io in
            io.on(.connection) { socket in
                recorder.record("loop:\(socket.loop.index):\(socket.id)")
                socket.on("join") { args, ack in
                    for room in args.compactMap(\.stringValue) { socket.join(room) }
                    ack?()
                }
                socket.on("shout") { args, _ in
                    guard let room = args.first?.stringValue else { return }
                    socket.to(room).emit("shout", arguments: Array(args.dropFirst()))
                }
                socket.on(.disconnect) { reason in recorder.record("disconnect:\(reason)") }
                socket.on("answer") { _, ack in ack?(.string(socket.id)) }
            }
        }
    }

    override func tearDown() {
        self.server.shutdown()
        self.server = nil
    }

    /// `count` clients connected to `/`, each having joined `rooms` (acknowledged, so joined for sure).
    private func clients(_ count: Int, joining rooms: [String] = []) throws -> [(client: SIOTestClient, sid: String)] {
        var result: [(SIOTestClient, String)] = []
        for _ in 0..<count {
            let client = try SIOTestClient(port: self.server.port)
            let sid = try client.connectNamespace("/")
            if !rooms.isEmpty {
                let list = rooms.map { "\"\($0)\"" }.joined(separator: ",")
                try client.send(#"4290["join","# + list + "]")
                XCTAssertEqual(try client.nextText(), "4390[]")
            }
            result.append((client, sid))
        }
        return result
    }

    /// `count` clients connected at the same time, each having joined `room`.
    private static func concurrentClients(_ count: Int, port: Int, joining room: String) -> [(client: SIOTestClient, sid: String)] {
        let made = LockedBox<[(client: SIOTestClient, sid: String)]>([])
        DispatchQueue.concurrentPerform(iterations: count) { _ in
            guard let client = try? SIOTestClient(port: port), let sid = try? client.connectNamespace("/"),
                  (try? client.send(#"4290["join",""# + room + #""]"#)) != nil,
                  (try? client.nextText()) == "4390[]" else { return }
            made.update { $0.append((client, sid)) }
        }
        return made.get()
    }

    func testRoomBroadcastReachesMembersOnEveryLoopButTheSender() throws {
        // The kernel hashes each connection to a loop: connect in concurrent batches until members live on
        // both loops (bounded).
        var members: [(client: SIOTestClient, sid: String)] = []
        var loops = Set<Substring>()
        while members.count < 40 && loops.count < 2 {
            members += Self.concurrentClients(8, port: self.server.port, joining: "room")
            for member in members {
                if let entry = self.recorder.all.first(where: { $0.hasSuffix(":" + member.sid) }) {
                    loops.insert(entry.split(separator: ":")[1])
                }
            }
        }
        XCTAssertEqual(loops.count, 2, "members on both loops")
        let outsider = try self.clients(1)[0]
        try members[0].client.send(#"42["shout","room","hello",{"n":1}]"#)
        for member in members.dropFirst() {
            XCTAssertEqual(try member.client.nextText(), #"42["shout","hello",{"n":1}]"#)
        }
        XCTAssertNil(members[0].client.quietFor(0.2), "the sender is left out")
        XCTAssertNil(outsider.client.quietFor(0.05), "non-members get nothing")
    }

    func testNamespaceEmitExceptRoomLeavesMembersOut() throws {
        let vips = try self.clients(2, joining: ["vip"])
        let others = try self.clients(2)
        self.server.io.except("vip").emit("news", "x")
        for other in others { XCTAssertEqual(try other.client.nextText(), #"42["news","x"]"#) }
        for vip in vips { XCTAssertNil(vip.client.quietFor(0.1)) }
    }

    func testSocketInSeveralTargetedRoomsGetsThePacketOnce() throws {
        let both = try self.clients(1, joining: ["a", "b"])[0]
        let onlyB = try self.clients(1, joining: ["b"])[0]
        self.server.io.to(["a", "b"]).emit("once", 1)
        XCTAssertEqual(try both.client.nextText(), #"42["once",1]"#)
        XCTAssertEqual(try onlyB.client.nextText(), #"42["once",1]"#)
        XCTAssertNil(both.client.quietFor(0.1))
    }

    func testSocketsJoinThenBroadcastToTheNewRoom() throws {
        let all = try self.clients(3)
        self.server.io.socketsJoin("everyone")
        // Bulk joins run on each socket's loop; wait until every socket is in.
        let joined = TestRecorder()
        let io = self.server.io
        XCTAssertTrue(joined.wait {  _ in
            let done = DispatchSemaphore(value: 0)
            let count = LockedBox(0)
            Task {
                count.set(await io.in("everyone").fetchSockets().count)
                done.signal()
            }
            done.wait()
            return count.get() == 3
        })
        io.to("everyone").emit("hi")
        for entry in all { XCTAssertEqual(try entry.client.nextText(), #"42["hi"]"#) }
        io.socketsLeave("everyone")
        XCTAssertTrue(joined.wait { _ in
            let done = DispatchSemaphore(value: 0)
            let count = LockedBox(-1)
            Task {
                count.set(await io.in("everyone").fetchSockets().count)
                done.signal()
            }
            done.wait()
            return count.get() == 0
        })
    }

    func testFetchSocketsReturnsSnapshotsFromBothLoops() async throws {
        let members = try self.clients(4, joining: ["room"])
        let outsider = try self.clients(1)
        let sockets = await self.server.io.in("room").fetchSockets()
        XCTAssertEqual(Set(sockets.map(\.id)), Set(members.map(\.sid)))
        for socket in sockets {
            XCTAssertEqual(socket.rooms, [socket.id, "room"])
            XCTAssertTrue(socket.handshake.url.hasPrefix("/socket.io/?EIO=4"))
        }
        let everyone = await self.server.io.fetchSockets()
        XCTAssertEqual(everyone.count, 5)
        withExtendedLifetime(outsider) {}
    }

    func testRemoteSocketEmitReachesThatSocketOnly() async throws {
        let entries = try self.clients(2)
        let sockets = await self.server.io.fetchSockets()
        let target = try XCTUnwrap(sockets.first { $0.id == entries[1].sid })
        target.emit("direct", "only you")
        XCTAssertEqual(try entries[1].client.nextText(), #"42["direct","only you"]"#)
        XCTAssertNil(entries[0].client.quietFor(0.1))
    }

    func testDisconnectSocketsInRoomSendsDisconnectPackets() throws {
        let members = try self.clients(3, joining: ["kick"])
        let other = try self.clients(1)[0]
        self.server.io.in("kick").disconnectSockets()
        for member in members { XCTAssertEqual(try member.client.nextText(), "41") }
        XCTAssertTrue(self.recorder.wait { $0.filter { $0 == "disconnect:server namespace disconnect" }.count == 3 })
        // The connections stay open (Node keeps the Engine.IO session): a new CONNECT works.
        XCTAssertNoThrow(try members[0].client.connectNamespace("/"))
        XCTAssertNil(other.client.quietFor(0.1))
    }

    func testDisconnectSocketsWithCloseClosesConnections() throws {
        let members = try self.clients(2, joining: ["kick"])
        self.server.io.in("kick").disconnectSockets(close: true)
        for member in members {
            XCTAssertEqual(try member.client.nextText(), "41")
            XCTAssertTrue(member.client.waitForClose())
        }
    }

    func testBroadcastEmitWithAckCollectsEveryAnswer() async throws {
        let entries = try self.clients(3, joining: ["q"])
        let io = self.server.io
        let task = Task { try await io.to("q").timeout(.seconds(3)).emitWithAck("question", 7) }
        var expected: [String] = []
        for (index, entry) in entries.enumerated() {
            let text = try entry.client.nextText()
            // 42<id>["question",7]: answer with our index.
            XCTAssertTrue(text.hasSuffix(#"["question",7]"#), text)
            let id = text.dropFirst(2).prefix { $0.isNumber }
            try entry.client.send("43\(id)[\"c\(index)\"]")
            expected.append("c\(index)")
        }
        let responses = try await task.value
        XCTAssertEqual(Set(responses.compactMap(\.stringValue)), Set(expected))
    }

    func testBroadcastEmitWithAckTimesOutWithPartialAnswers() throws {
        let entries = try self.clients(2, joining: ["q"])
        let outcome = TestRecorder()
        self.server.io.to("q").timeout(.milliseconds(300)).emit("question") { error, responses in
            outcome.record("\(error.map { "\($0)" } ?? "ok"):\(responses.count)")
        }
        let text = try entries[0].client.nextText()
        let id = text.dropFirst(2).prefix { $0.isNumber }
        try entries[0].client.send("43\(id)[1]")
        XCTAssertTrue(outcome.wait(for: "operation has timed out:1"), "\(outcome.all)")
    }

    func testBroadcastEmitWithAckToNobodyCompletesAtOnce() async throws {
        let responses = try await self.server.io.to("empty-room").timeout(.seconds(5)).emitWithAck("question")
        XCTAssertEqual(responses, [])
    }
}

/// A value shared with a Task in tests.
final class LockedBox<Value: Sendable>: @unchecked Sendable {
    // Invariant: `value` is only touched under `lock`.
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func get() -> Value { self.lock.withLock { self.value } }
    func update(_ change: (inout Value) -> Void) { self.lock.withLock { change(&self.value) } }
    func set(_ value: Value) { self.lock.withLock { self.value = value } }
}
