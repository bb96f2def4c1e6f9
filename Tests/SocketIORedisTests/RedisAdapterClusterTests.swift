import Foundation
import Redis
import SocketIO
import SocketIOClient
@testable import SocketIORedis
import SocketIOTestSupport
import Synchronization
import Transport
import XCTest

/// Two or three in-process servers on one real `redis-server`, Swift clients spread across them: every
/// server API across nodes, and the bytes published compared with what Node publishes.
final class RedisAdapterClusterTests: XCTestCase {
    private var redis: RedisTestServer!
    private var loops: EventLoopGroup!
    private var nodes: [ClusterNode] = []
    private var clients: [ClusterClient] = []

    override func setUp() async throws {
        self.redis = try RedisTestServer()
        self.loops = try EventLoopGroup(loopCount: 1)
        try await self.redis.waitUntilReady(loop: self.loops.loops[0])
    }

    override func tearDown() async throws {
        for client in self.clients { client.close() }
        for node in self.nodes { node.stop() }
        self.loops.shutdown(timeoutSeconds: 2)
        self.redis.stop()
    }

    private func node(requestsTimeout: Int = 2_000, setup: (SocketIOServer) -> Void = { _ in }) throws -> ClusterNode {
        var options = RedisAdapterOptions()
        options.requestsTimeoutMillis = requestsTimeout
        let node = try ClusterNode(redisURL: self.redis.url, options: options, setup: setup)
        self.nodes.append(node)
        return node
    }

    private func client(_ name: String, on node: ClusterNode, namespace: String = "/", rooms: [String] = []) async throws -> ClusterClient {
        let client = try await ClusterClient(name: name, url: node.url, namespace: namespace, rooms: rooms)
        self.clients.append(client)
        return client
    }

    /// Waits until `count` servers are subscribed to the request channel of `namespace`.
    private func waitForServers(_ count: Int, namespace: String = "/") async throws {
        let deadline = Date(timeIntervalSinceNow: 10)
        while Date() < deadline {
            if await self.nodes[0].cluster.serverCount(namespace: namespace) == count { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTFail("\(count) servers never subscribed to \(namespace)")
    }

    /// A subscriber of our own on `pattern`, recording what Redis delivers.
    private func rawSubscriber(_ pattern: String) async throws -> (RedisSubscriber, ReceivedMessages) {
        let box = ReceivedMessages()
        let subscriber = RedisSubscriber(configuration: try RedisConfiguration(url: self.redis.url), loop: self.loops.loops[0]) {
            box.append($0)
        }
        subscriber.connect()
        subscriber.psubscribe([pattern])
        let client = RedisClient(configuration: try RedisConfiguration(url: self.redis.url), loop: self.loops.loops[0])
        client.connect()
        defer { client.close() }
        // Subscribed once a PUBLISH on a matching channel reaches it.
        let probe = pattern.replacingOccurrences(of: "*", with: "probe")
        let deadline = Date(timeIntervalSinceNow: 10)
        while box.probes == 0 && Date() < deadline {
            client.publish(probe, [1])
            try await Task.sleep(for: .milliseconds(20))
        }
        return (subscriber, box)
    }

    // MARK: Broadcasts

    func testBroadcastsReachClientsOfEveryNodeWithRoomsExceptAndBinary() async throws {
        let a = try self.node()
        let b = try self.node()
        try await self.waitForServers(2)
        let alice = try await self.client("alice", on: a, rooms: ["r1"])
        let bob = try await self.client("bob", on: b, rooms: ["r1", "r2"])
        let dave = try await self.client("dave", on: b, rooms: ["ex"])

        a.io.emit("all", "everyone", .double(1.5), .null, true)
        for client in [alice, bob, dave] { XCTAssertTrue(client.saw(#"all ["everyone",1.5,null,true]"#), client.name) }

        a.io.to("r1").emit("hello", "x", ["n": 1])
        XCTAssertTrue(bob.saw(#"hello ["x",{"n":1}]"#))
        XCTAssertTrue(alice.saw(#"hello ["x",{"n":1}]"#))

        a.io.to(["r1", "r2", "ex"]).except("r2").emit("two", "a", 2)
        XCTAssertTrue(dave.saw(#"two ["a",2]"#))
        XCTAssertTrue(alice.saw(#"two ["a",2]"#))

        a.io.to("r1").emit("bin", .binary([1, 2, 3, 255]), ["nested": .binary(Array("hi".utf8))])
        XCTAssertTrue(bob.events.wait { $0.contains { $0.hasPrefix("bin ") } })
        let binary = bob.events.all.first { $0.hasPrefix("bin ") }
        // The client's JSON text shows bytes as base64: AQID/w== is 01 02 03 ff, aGk= is "hi".
        XCTAssertEqual(binary, #"bin ["AQID/w==",{"nested":"aGk="}]"#)

        a.io.local.emit("loc", 1)
        a.io.volatile.emit("marker", 1)
        XCTAssertTrue(bob.saw("marker [1]"))
        XCTAssertTrue(alice.saw("loc [1]"))
        XCTAssertFalse(bob.events.all.contains("loc [1]"), "a local broadcast stays on its node")
        XCTAssertFalse(bob.events.all.contains(#"two ["a",2]"#), "except applies on remote nodes")

        // A socket id works as a room across nodes.
        a.io.to(bob.id).emit("private", "psst")
        XCTAssertTrue(bob.saw(#"private ["psst"]"#))
    }

    func testABroadcastPublishesOnceWithNodesBytes() async throws {
        let a = try self.node()
        let b = try self.node()
        try await self.waitForServers(2)
        _ = try await self.client("bob", on: b, rooms: ["r1"])
        let (subscriber, received) = try await self.rawSubscriber("socket.io#*")
        defer { subscriber.close() }

        a.io.to("r1").emit("hello", "x", ["n": 1])
        a.io.emit("all", "everyone", .double(1.5), .null, true)
        a.io.local.emit("loc", 1)
        a.io.to("r1").emit("bin", .binary([1, 2, 3, 255]), ["nested": .binary(Array("hi".utf8))])
        let deadline = Date(timeIntervalSinceNow: 10)
        while received.messages.count < 3 && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        // Anything published for the local broadcast would have come before the last one (same connection).
        let messages = received.messages
        XCTAssertEqual(messages.map(\.channel), ["socket.io#/#r1#", "socket.io#/#", "socket.io#/#r1#"], "one PUBLISH per broadcast, none for local")
        let uid = a.uid()
        for (index, file) in ["broadcast-room.json", "broadcast-all.json", "broadcast-binary.json"].enumerated() where index < messages.count {
            let node = try RedisFixtures.messages(file)[0].payload
            XCTAssertEqual(messages[index].payload, Self.replacingUid(in: node, with: uid), file)
        }
    }

    /// Node's bytes with its uid (`pMRoEx`, six letters like ours) swapped for ours.
    static func replacingUid(in payload: [UInt8], with uid: String) -> [UInt8] {
        self.replacing(Array("pMRoEx".utf8), with: Array(uid.utf8), in: payload)
    }

    /// `payload` with the first occurrence of `from` replaced by `to`.
    static func replacing(_ from: [UInt8], with to: [UInt8], in payload: [UInt8]) -> [UInt8] {
        var result = payload
        guard payload.count >= from.count else { return result }
        if let start = (0...(payload.count - from.count)).first(where: { Array(payload[$0..<($0 + from.count)]) == from }) {
            result.replaceSubrange(start..<(start + from.count), with: to)
        }
        return result
    }

    func testRequestsArePublishedWithNodesBytes() async throws {
        let a = try self.node()
        let b = try self.node { io in
            io.onServerSideEvent("whoami") { _, ack in ack?(["node": "node", "port": 4312]) }
        }
        try await self.waitForServers(2)
        _ = try await self.client("bob", on: b, rooms: ["r1", "kick", "kick-close"])
        let (subscriber, received) = try await self.rawSubscriber("socket.io-request#*")
        defer { subscriber.close() }
        // The operations of the fixtures, in their order; each fixture's request is compared with ours once
        // its random ids (uid, requestId) are swapped for ours.
        _ = await a.io.in("r1").fetchSockets()
        _ = await a.io.sockets.allRooms()
        a.io.in("r1").socketsJoin("joined")
        a.io.in("joined").socketsLeave("joined")
        a.io.in("kick").disconnectSockets()
        a.io.in("kick-close").disconnectSockets(close: true)
        a.io.serverSideEmit("notify", ["n1", ["k": 2]])
        _ = await withCheckedContinuation { continuation in
            a.io.serverSideEmitWithAck("whoami", [], timeoutMillis: 2_000) { _, responses in continuation.resume(returning: responses) }
        }
        _ = try await a.io.to("r1").timeout(.seconds(2)).emitWithAck("ask", "q")
        let expected: [(String, Int)] = [
            ("fetch-sockets-room.json", 1), ("all-rooms.json", 1), ("sockets-join.json", 0), ("sockets-leave.json", 0),
            ("disconnect-sockets.json", 0), ("disconnect-sockets-close.json", 0), ("server-side-emit.json", 0),
            ("server-side-emit-with-ack.json", 1), ("broadcast-with-ack.json", 0),
        ]
        try await self.eventually { received.messages.count >= expected.count }
        let messages = received.messages
        XCTAssertEqual(messages.count, expected.count)
        for (message, (file, index)) in zip(messages, expected) {
            let node = try RedisFixtures.messages(file)[index]
            XCTAssertEqual(message.channel, node.channel, file)
            var reference = Self.replacingUid(in: node.payload, with: a.uid())
            let nodeRequest = try RedisRequest.decode(node.payload)
            if let nodeId = nodeRequest.requestId, let ourId = try RedisRequest.decode(message.payload).requestId {
                reference = Self.replacing(Array(nodeId.utf8), with: Array(ourId.utf8), in: reference)
            }
            XCTAssertEqual(String(decoding: message.payload, as: UTF8.self), String(decoding: reference, as: UTF8.self), file)
            XCTAssertEqual(message.payload, reference, file)
        }
    }

    func testAdminNamespaceIsItsOwnCluster() async throws {
        let a = try self.node()
        let b = try self.node()
        try await self.waitForServers(2, namespace: "/admin")
        let main = try await self.client("main", on: b)
        let admin = try await self.client("admin", on: b, namespace: "/admin")
        a.io.of("/admin").emit("adm", "to admins")
        a.io.emit("marker", 1)
        XCTAssertTrue(admin.saw(#"adm ["to admins"]"#))
        XCTAssertTrue(main.saw("marker [1]"))
        XCTAssertFalse(main.events.all.contains(#"adm ["to admins"]"#))
        XCTAssertNotEqual(a.uid("/"), a.uid("/admin"))
    }

    // MARK: Broadcast with acknowledgements

    func testBroadcastWithAckGathersAnswersFromEveryNode() async throws {
        let a = try self.node()
        let b = try self.node()
        let c = try self.node()
        try await self.waitForServers(3)
        _ = try await self.client("carol", on: a, rooms: ["r1"])
        _ = try await self.client("bob", on: b, rooms: ["r1"])
        _ = try await self.client("erin", on: c, rooms: ["r2"])
        let answers = try await a.io.to("r1").timeout(.seconds(3)).emitWithAck("ask", "q")
        XCTAssertEqual(Set(answers.compactMap(\.stringValue)), ["answer from carol", "answer from bob"])

        // Without a timeout the wait for other nodes is bounded by requestsTimeout; here all answer at once.
        let all = try await a.io.sockets.all.emitWithAck("ask", "q")
        XCTAssertEqual(all.count, 3)
    }

    // MARK: fetchSockets and remote sockets

    func testFetchSocketsReturnsRemoteSocketsThatCanBeDrivenFromAnyNode() async throws {
        let a = try self.node()
        let b = try self.node()
        try await self.waitForServers(2)
        let alice = try await self.client("alice", on: a, rooms: ["r1"])
        let bob = try await self.client("bob", on: b, rooms: ["r1", "r2"])

        let all = await a.io.fetchSockets()
        XCTAssertEqual(Set(all.map(\.id)), [alice.id, bob.id])
        let remote = try XCTUnwrap(all.first { $0.id == bob.id })
        XCTAssertEqual(remote.rooms, [bob.id, "r1", "r2"])
        XCTAssertEqual(remote.handshake.auth["name"], "bob")
        XCTAssertEqual(remote.data["name"] as? JSONValue, "bob")
        XCTAssertEqual(remote.handshake.query.pairs.first { $0.name == "EIO" }?.value, "4")

        let inR2 = await a.io.in("r2").fetchSockets()
        XCTAssertEqual(inR2.map(\.id), [bob.id])

        remote.emit("private", "hi bob")
        XCTAssertTrue(bob.saw(#"private ["hi bob"]"#))
        remote.join("joined")
        try await self.eventually { await a.io.in("joined").fetchSockets().map(\.id) == [bob.id] }
        remote.leave("r2")
        try await self.eventually { await a.io.in("r2").fetchSockets().isEmpty }
        remote.disconnect()
        XCTAssertTrue(bob.saw("disconnected"))
        try await self.eventually { await a.io.fetchSockets().map(\.id) == [alice.id] }
    }

    func testSocketsJoinLeaveAndDisconnectActOnEveryNode() async throws {
        let a = try self.node()
        let b = try self.node()
        try await self.waitForServers(2)
        let alice = try await self.client("alice", on: a, rooms: ["r1"])
        let bob = try await self.client("bob", on: b, rooms: ["r1"])
        let dave = try await self.client("dave", on: b, rooms: ["kick"])

        a.io.in("r1").socketsJoin("joined")
        try await self.eventually { Set(await a.io.in("joined").fetchSockets().map(\.id)) == [alice.id, bob.id] }
        a.io.in("joined").socketsLeave("joined")
        try await self.eventually { await a.io.in("joined").fetchSockets().isEmpty }
        a.io.in("kick").disconnectSockets()
        XCTAssertTrue(dave.saw("disconnected"))
        try await self.eventually { Set(await b.io.fetchSockets().map(\.id)) == [alice.id, bob.id] }
    }

    // MARK: Rooms and servers

    func testAllRoomsAndServerCountSpanTheCluster() async throws {
        let a = try self.node()
        let b = try self.node()
        try await self.waitForServers(2)
        let alice = try await self.client("alice", on: a, rooms: ["r1"])
        let bob = try await self.client("bob", on: b, rooms: ["r2"])
        let rooms = await a.io.sockets.allRooms()
        XCTAssertEqual(rooms, [alice.id, bob.id, "r1", "r2"])
        let count = await a.io.serverCount()
        XCTAssertEqual(count, 2)
        _ = try self.node()
        try await self.waitForServers(3)
        let three = await b.io.serverCount()
        XCTAssertEqual(three, 3)
    }

    // MARK: Server-side events

    func testServerSideEmitWithAndWithoutAcknowledgement() async throws {
        let seen = EventRecorder(defaultTimeout: 10)
        let a = try self.node { io in
            io.onServerSideEvent("notify") { args, _ in seen.record("a \(JSONSerializer.string(.array(args)))") }
        }
        let b = try self.node { io in
            io.onServerSideEvent("notify") { args, _ in seen.record("b \(JSONSerializer.string(.array(args)))") }
            io.onServerSideEvent("whoami") { _, ack in ack?(["node": "b"]) }
        }
        let c = try self.node { io in
            io.onServerSideEvent("whoami") { _, ack in ack?(["node": "c"]) }
        }
        try await self.waitForServers(3)
        a.io.serverSideEmit("notify", ["n1", ["k": 2]])
        XCTAssertTrue(seen.wait(for: #"b ["n1",{"k":2}]"#))
        XCTAssertEqual(seen.all, [#"b ["n1",{"k":2}]"#], "the sender does not hear itself")

        let (error, responses) = await withCheckedContinuation { continuation in
            a.io.serverSideEmitWithAck("whoami", [], timeoutMillis: 3_000) { continuation.resume(returning: ($0, $1)) }
        }
        XCTAssertNil(error)
        XCTAssertEqual(Set(responses.compactMap { $0["node"]?.stringValue }), ["b", "c"])

        // A node with no listener never answers: the call ends at its timeout with what arrived.
        let started = Date()
        let (partialError, partial) = await withCheckedContinuation { continuation in
            c.io.serverSideEmitWithAck("whoami", [], timeoutMillis: 500) { continuation.resume(returning: ($0, $1)) }
        }
        XCTAssertEqual(partialError, .timeout)
        XCTAssertEqual(partial, [["node": "b"]])
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
        _ = b
    }

    func testSingleServerDefaultsAnswerAtOnce() async throws {
        let a = try self.node()
        try await self.waitForServers(1)
        let (error, responses) = await withCheckedContinuation { continuation in
            a.io.serverSideEmitWithAck("whoami", [], timeoutMillis: 60_000) { continuation.resume(returning: ($0, $1)) }
        }
        XCTAssertNil(error)
        XCTAssertEqual(responses, [])
    }

    // MARK: Faults

    func testRequestsToASilentNodeEndAtTheTimeoutWithWhatArrived() async throws {
        let a = try self.node(requestsTimeout: 700)
        let b = try self.node(requestsTimeout: 700)
        try await self.waitForServers(2)
        let bob = try await self.client("bob", on: b)
        // A subscriber of the request channel that never answers, as a node that died without unsubscribing.
        let silent = RedisSubscriber(configuration: try RedisConfiguration(url: self.redis.url), loop: self.loops.loops[0]) { _ in }
        silent.connect()
        silent.subscribe(["socket.io-request#/#"])
        defer { silent.close() }
        try await self.waitForServers(3)

        let started = Date()
        let sockets = await a.io.fetchSockets()
        XCTAssertEqual(sockets.map(\.id), [bob.id])
        let rooms = await a.io.sockets.allRooms()
        XCTAssertEqual(rooms, [bob.id])
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertGreaterThan(elapsed, 1.2)
        XCTAssertLessThan(elapsed, 5)

        // A broadcast with acknowledgements and no timeout waits for the silent node at most requestsTimeout.
        let ackStarted = Date()
        do {
            _ = try await a.io.sockets.all.emitWithAck("ask", "q")
            XCTFail("the silent node never reports")
        } catch let error as SocketAckError {
            XCTAssertEqual(error, .timeout)
        }
        XCTAssertLessThan(Date().timeIntervalSince(ackStarted), 5)
        let (sseError, sseResponses) = await withCheckedContinuation { continuation in
            a.io.serverSideEmitWithAck("whoami", [], timeoutMillis: 600) { continuation.resume(returning: ($0, $1)) }
        }
        XCTAssertEqual(sseError, .timeout)
        XCTAssertEqual(sseResponses, [])
    }

    // MARK: Subscriptions

    func testNodesSubscribeOnCreationAndUnsubscribeOnClose() async throws {
        let a = try self.node()
        try await self.waitForServers(1)
        let uid = a.uid()
        let adminUid = a.uid("/admin")
        let client = RedisClient(configuration: try RedisConfiguration(url: self.redis.url), loop: self.loops.loops[0])
        client.connect()
        defer { client.close() }
        let channels = try await client.send(["PUBSUB", "CHANNELS", "socket.io*"])
        XCTAssertEqual(Set(Self.strings(channels)), [
            "socket.io-request#/#", "socket.io-response#/#", "socket.io-response#/#\(uid)#",
            "socket.io-request#/admin#", "socket.io-response#/admin#", "socket.io-response#/admin#\(adminUid)#",
        ])
        let patterns = try await client.send(["PUBSUB", "NUMPAT"])
        XCTAssertEqual(patterns, .integer(2), "socket.io#/#* and socket.io#/admin#*")
        a.io.close()
        try await self.eventually {
            let left = try? await client.send(["PUBSUB", "CHANNELS", "socket.io*"])
            let numpat = try? await client.send(["PUBSUB", "NUMPAT"])
            return left.map(Self.strings) == [] && numpat == .integer(0)
        }
    }

    static func strings(_ value: RESPValue) -> [String] {
        switch value {
        case .array(let items), .set(let items):
            return items.compactMap { if case .bulkString(let bytes) = $0 { String(decoding: bytes, as: UTF8.self) } else { nil } }
        default: return []
        }
    }

}

/// Messages a raw subscriber received.
/// Probes (channels ending in `probe`, published to learn that the subscription is in place) are counted,
/// not kept, so a late one never shows among the messages a test checks.
final class ReceivedMessages: Sendable {
    private let storage = Mutex<(messages: [RedisPubSubMessage], probes: Int)>(([], 0))

    func append(_ message: RedisPubSubMessage) {
        self.storage.withLock { storage in
            if message.channel.hasSuffix("probe") { storage.probes += 1 } else { storage.messages.append(message) }
        }
    }

    var messages: [RedisPubSubMessage] { self.storage.withLock { $0.messages } }
    var probes: Int { self.storage.withLock { $0.probes } }
    func clear() { self.storage.withLock { $0.messages = [] } }
}
