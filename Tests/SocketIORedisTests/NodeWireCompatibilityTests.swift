import Foundation
import Redis
import SocketIO
import SocketIOClient
@testable import SocketIORedis
import SocketIOTestSupport
import Transport
import XCTest

/// A Swift node answers what Node's node1 and the Node emitter published (the fixtures' requests and
/// broadcasts, replayed byte for byte on a real Redis) with the bytes Node's node2 published, and our
/// emitter publishes exactly what Node's emitter published.
final class NodeWireCompatibilityTests: XCTestCase {
    private var redis: RedisTestServer!
    private var loops: EventLoopGroup!
    private var node: ClusterNode!
    private var publisher: RedisClient!
    private var responses: RedisSubscriber!
    private let received = ReceivedMessages()
    private var clients: [ClusterClient] = []

    override func setUp() async throws {
        self.redis = try RedisTestServer()
        self.loops = try EventLoopGroup(loopCount: 1)
        try await self.redis.waitUntilReady(loop: self.loops.loops[0])
        self.publisher = RedisClient(configuration: try RedisConfiguration(url: self.redis.url), loop: self.loops.loops[0])
        self.publisher.connect()
        let received = self.received
        self.responses = RedisSubscriber(configuration: try RedisConfiguration(url: self.redis.url), loop: self.loops.loops[0]) {
            received.append($0)
        }
        self.responses.connect()
    }

    override func tearDown() async throws {
        for client in self.clients { client.close() }
        self.node?.stop()
        self.responses.close()
        self.publisher.close()
        self.loops.shutdown(timeoutSeconds: 2)
        self.redis.stop()
    }

    /// Starts our node with bob (rooms r1, r2) and dave (room kick), and a subscriber on `pattern`.
    private func start(pattern: String, specificResponses: Bool = false,
                       setup: (SocketIOServer) -> Void = { _ in }) async throws -> (bob: ClusterClient, dave: ClusterClient) {
        var options = RedisAdapterOptions()
        options.publishOnSpecificResponseChannel = specificResponses
        self.node = try ClusterNode(redisURL: self.redis.url, options: options, setup: setup)
        // Our node listens once its request channel has a subscriber (it subscribes to it last).
        let listening = Date(timeIntervalSinceNow: 10)
        while await self.node.cluster.serverCount() < 1 && Date() < listening { try await Task.sleep(for: .milliseconds(10)) }
        let bob = try await ClusterClient(name: "bob", url: self.node.url, rooms: ["r1", "r2"])
        let dave = try await ClusterClient(name: "dave", url: self.node.url, rooms: ["kick"])
        self.clients += [bob, dave]
        self.responses.psubscribe([pattern])
        // The test's own subscriber is in place once a probe comes back.
        let probe = pattern.replacingOccurrences(of: "*", with: "probe")
        let deadline = Date(timeIntervalSinceNow: 10)
        while self.received.probes == 0 && Date() < deadline {
            self.publisher.publish(probe, [1])
            try await Task.sleep(for: .milliseconds(20))
        }
        return (bob, dave)
    }

    private func replay(_ file: String, _ index: Int) throws {
        let message = try RedisFixtures.messages(file)[index]
        self.publisher.publish(message.channel, message.payload)
    }

    private func waitForMessages(_ count: Int) async throws -> [RedisPubSubMessage] {
        let deadline = Date(timeIntervalSinceNow: 10)
        while self.received.messages.count < count && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        return self.received.messages
    }

    // MARK: Requests from a Node node

    func testAcknowledgedBroadcastIsAnsweredWithNodesBytes() async throws {
        _ = try await self.start(pattern: "socket.io-response#*")
        try self.replay("broadcast-with-ack.json", 0)
        let answers = try await self.waitForMessages(2)
        XCTAssertEqual(answers.map(\.channel), ["socket.io-response#/#", "socket.io-response#/#"])
        XCTAssertEqual(answers.map(\.payload), [try RedisFixtures.messages("broadcast-with-ack.json")[2].payload,
                                                 try RedisFixtures.messages("broadcast-with-ack.json")[3].payload])
        self.received.clear()
        try self.replay("broadcast-with-ack-no-remote-client.json", 0)
        let none = try await self.waitForMessages(1)
        XCTAssertEqual(none.map(\.payload), [try RedisFixtures.messages("broadcast-with-ack-no-remote-client.json")[2].payload])
    }

    func testResponsesGoToTheAskersChannelWhenSoConfigured() async throws {
        _ = try await self.start(pattern: "socket.io-response#*", specificResponses: true) { io in
            io.onServerSideEvent("whoami") { _, ack in ack?(["node": "node", "port": 4313]) }
        }
        try self.replay("broadcast-with-ack.json", 0)
        let answers = try await self.waitForMessages(2)
        XCTAssertEqual(answers.map(\.channel), ["socket.io-response#/#pMRoEx#", "socket.io-response#/#pMRoEx#"])
        self.received.clear()
        // Server-side emit answers stay on the general channel.
        try self.replay("specific-response-channel-server-side-emit-with-ack.json", 1)
        let sse = try await self.waitForMessages(1)
        XCTAssertEqual(sse.map(\.channel), ["socket.io-response#/#"])
        XCTAssertEqual(sse.first?.payload, try RedisFixtures.messages("specific-response-channel-server-side-emit-with-ack.json")[2].payload)
    }

    func testServerSideEmitWithAckIsAnsweredWithNodesBytes() async throws {
        _ = try await self.start(pattern: "socket.io-response#*") { io in
            io.onServerSideEvent("whoami") { _, ack in
                ack?(["node": "node", "port": 4312])
                ack?("a second answer is ignored")
            }
        }
        try self.replay("server-side-emit-with-ack.json", 1)
        let answers = try await self.waitForMessages(1)
        XCTAssertEqual(answers.map(\.payload), [try RedisFixtures.messages("server-side-emit-with-ack.json")[2].payload])
        try await Task.sleep(for: .milliseconds(100))
        XCTAssertEqual(self.received.messages.count, 1)
    }

    func testFetchAndAllRoomsAnswersHaveNodesShape() async throws {
        let (bob, dave) = try await self.start(pattern: "socket.io-response#*")
        try self.replay("fetch-sockets-room.json", 1)
        let fetched = try await self.waitForMessages(1)
        let expected = try RedisPayload.decode(try RedisFixtures.messages("fetch-sockets-room.json")[2].payload)
        let ours = try RedisPayload.decode(try XCTUnwrap(fetched.first).payload)
        XCTAssertEqual(ours["requestId"], "iEDOH0")
        XCTAssertEqual(ours["sockets"]?.arrayValue?.count, 1)
        let socket = try XCTUnwrap(ours["sockets"]?[0])
        let reference = try XCTUnwrap(expected["sockets"]?[0])
        XCTAssertEqual(socket.objectValue?.keys, reference.objectValue?.keys)
        XCTAssertEqual(socket["handshake"]?.objectValue?.keys, reference["handshake"]?.objectValue?.keys)
        XCTAssertEqual(socket["id"]?.stringValue, bob.id)
        XCTAssertEqual(socket["rooms"], [.string(bob.id), "r1", "r2"])
        XCTAssertEqual(socket["data"], ["name": "bob"])
        XCTAssertEqual(socket["handshake"]?["auth"], ["name": "bob", "rooms": ["r1", "r2"]])
        XCTAssertEqual(socket["handshake"]?["headers"]?["upgrade"], "websocket")

        self.received.clear()
        try self.replay("fetch-sockets-no-remote-match.json", 1)
        let empty = try await self.waitForMessages(1)
        XCTAssertEqual(empty.first?.payload, try RedisFixtures.messages("fetch-sockets-no-remote-match.json")[2].payload)

        self.received.clear()
        try self.replay("all-rooms.json", 1)
        let rooms = try await self.waitForMessages(1)
        guard case .allRooms(let id, let names) = try RedisResponse.decode(try XCTUnwrap(rooms.first).payload) else {
            return XCTFail("not a rooms answer")
        }
        XCTAssertEqual(id, "7SQPmh")
        XCTAssertEqual(Set(names), [bob.id, dave.id, "r1", "r2", "kick"])
    }

    func testBulkRequestsAndOlderSingleSocketForms() async throws {
        let (bob, dave) = try await self.start(pattern: "socket.io-response#*")
        try self.replay("sockets-join.json", 0)
        try await self.eventually { await self.node.io.in("joined").fetchSockets().map(\.id) == [bob.id] }
        try self.replay("sockets-leave.json", 0)
        try await self.eventually { await self.node.io.in("joined").fetchSockets().isEmpty }

        // type 0 and the single-socket forms, which 8.x no longer sends but still answers.
        self.publisher.publish("socket.io-request#/#", Array(#"{"uid":"zzzzzz","requestId":"old0","type":0,"rooms":["kick"]}"#.utf8))
        self.publisher.publish("socket.io-request#/#", Array(#"{"uid":"zzzzzz","requestId":"old2","type":2,"sid":"\#(bob.id)","room":"legacy"}"#.utf8))
        self.publisher.publish("socket.io-request#/#", Array(#"{"uid":"zzzzzz","requestId":"none","type":2,"sid":"nobody","room":"legacy"}"#.utf8))
        let answers = try await self.waitForMessages(2)
        // Both answers come after work on the sockets' loops, in either order.
        XCTAssertEqual(Set(answers.map { String(decoding: $0.payload, as: UTF8.self) }),
                       [#"{"requestId":"old0","sockets":["\#(dave.id)"]}"#, #"{"requestId":"old2"}"#])
        try await self.eventually { await self.node.io.in("legacy").fetchSockets().map(\.id) == [bob.id] }

        try self.replay("disconnect-sockets.json", 0)
        XCTAssertTrue(dave.saw("disconnected"))
        self.publisher.publish("socket.io-request#/#", Array(#"{"uid":"zzzzzz","requestId":"old4","type":4,"sid":"\#(bob.id)","close":true}"#.utf8))
        XCTAssertTrue(bob.saw("disconnected"))
    }

    func testBroadcastsFromANodeNodeAreDelivered() async throws {
        let (bob, dave) = try await self.start(pattern: "socket.io-response#*")
        for file in ["broadcast-room.json", "broadcast-binary.json", "broadcast-all.json", "broadcast-room-except.json",
                     "broadcast-volatile.json", "broadcast-compress-false.json"] {
            try self.replay(file, 0)
        }
        XCTAssertTrue(bob.saw(#"hello ["x",{"n":1}]"#))
        XCTAssertTrue(bob.saw(#"bin ["AQID/w==",{"nested":"aGk="}]"#))
        XCTAssertTrue(dave.saw(#"all ["everyone",1.5,null,true]"#))
        XCTAssertTrue(bob.saw(#"exc [7]"#))
        XCTAssertTrue(dave.saw(#"vol ["v"]"#))
        XCTAssertTrue(dave.saw(#"cmp ["c"]"#))
        XCTAssertFalse(dave.events.all.contains { $0.hasPrefix("hello") || $0.hasPrefix("exc") })
        // Its own uid is ignored: a message claiming to come from this node is not delivered again.
        let own = RedisBroadcastMessage(uid: self.node.uid(), packet: RedisEventPacket(event: "echo", arguments: [], namespace: "/"),
                                        rooms: [], except: [], flags: RedisBroadcastFlags())
        self.publisher.publish("socket.io#/#", own.encode())
        // A room channel whose room has no member here, and a packet of another namespace, are ignored.
        let ghost = RedisBroadcastMessage(uid: "zzzzzz", packet: RedisEventPacket(event: "echo", arguments: [], namespace: "/"),
                                          rooms: [], except: [], flags: RedisBroadcastFlags())
        self.publisher.publish("socket.io#/#ghost#", ghost.encode())
        let admin = RedisBroadcastMessage(uid: "zzzzzz", packet: RedisEventPacket(event: "echo", arguments: [], namespace: "/admin"),
                                          rooms: [], except: [], flags: RedisBroadcastFlags())
        self.publisher.publish("socket.io#/#", admin.encode())
        try self.replay("broadcast-volatile.json", 0)
        XCTAssertTrue(dave.events.wait { $0.filter { $0 == #"vol ["v"]"# }.count == 2 })
        XCTAssertFalse(dave.events.all.contains("echo []"))
    }

    func testMalformedMessagesAreIgnored() async throws {
        let (bob, _) = try await self.start(pattern: "socket.io-response#*")
        let garbage: [[UInt8]] = [
            [], [0xC1], Array("{not json".utf8), [0xDD, 0xFF, 0xFF, 0xFF, 0xFF],
            [UInt8](repeating: 0x91, count: 10_000), [0x93, 0xA1, 0x78, 0xC0, 0xC0],
            Array(#"{"type":7,"requestId":"x"}"#.utf8), Array(#"{"type":5}"#.utf8), Array(#"{"type":99,"requestId":"x"}"#.utf8),
            Array(#"{"type":6,"uid":"z","data":"not an array"}"#.utf8),
        ]
        for payload in garbage {
            for channel in ["socket.io#/#", "socket.io#/#r1#", "socket.io-request#/#", "socket.io-response#/#"] {
                self.publisher.publish(channel, payload)
            }
        }
        try self.replay("broadcast-room.json", 0)
        XCTAssertTrue(bob.saw(#"hello ["x",{"n":1}]"#))
        // The response channel carried only the garbage published there: the node answered none of it.
        XCTAssertEqual(self.received.messages.map(\.payload), garbage)
    }

    // MARK: The emitter

    func testEmitterPublishesWhatNodesEmitterPublishes() async throws {
        let (bob, dave) = try await self.start(pattern: "socket.io*") { io in
            io.onServerSideEvent("notify") { args, _ in
                io.sockets.emit("notified", arguments: args)
            }
        }
        let emitter = try RedisEmitter(url: self.redis.url, loop: self.loops.loops[0])
        defer { emitter.close() }
        emitter.to("r1").emit("from-emitter", "e", ["n": 1])
        emitter.emit("emitter-bin", .binary([1, 2, 3, 255]))
        emitter.of("/admin").volatile.emit("adm-emitter", "x")
        emitter.to(["r1", "r2"]).except("ex").compress(false).emit("emitter-except", 1)
        emitter.in("r1").socketsJoin("emitter-joined")
        emitter.in("r1").socketsLeave("emitter-joined")
        emitter.in("kick2").disconnectSockets()
        emitter.serverSideEmit("notify", "from emitter", 5)
        let files = ["emitter-to-room.json", "emitter-broadcast-binary.json", "emitter-admin-volatile.json", "emitter-rooms-except.json",
                     "emitter-sockets-join.json", "emitter-sockets-leave.json", "emitter-disconnect-sockets.json",
                     "emitter-server-side-emit.json"]
        let published = try await self.waitForMessages(files.count + 1).filter { !$0.channel.hasPrefix("socket.io-response") }
        XCTAssertGreaterThanOrEqual(published.count, files.count)
        for (index, file) in files.enumerated() where index < published.count {
            let node = try RedisFixtures.messages(file)[0]
            XCTAssertEqual(published[index].channel, node.channel, file)
            XCTAssertEqual(published[index].payload, node.payload, file)
        }
        XCTAssertTrue(bob.saw(#"from-emitter ["e",{"n":1}]"#))
        XCTAssertTrue(dave.saw(#"emitter-bin ["AQID/w=="]"#))
        XCTAssertTrue(bob.saw("emitter-except [1]"))
        XCTAssertTrue(dave.saw(#"notified ["from emitter",5]"#), "the emitter's server-side events reach every node")
        XCTAssertEqual(emitter.emit("disconnect"), false)
    }

}
