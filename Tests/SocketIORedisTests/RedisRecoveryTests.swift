import Foundation
import Redis
import SocketIO
import SocketIOClient
@testable import SocketIORedis
import SocketIOTestSupport
import Transport
import XCTest

/// Connection state recovery across a Redis cluster (which Node's Redis adapter cannot do): the session and
/// the broadcasts live in Redis, so a client whose node went away recovers on another node.
final class RedisRecoveryTests: XCTestCase {
    private var redis: RedisTestServer!
    private var loops: EventLoopGroup!
    private var nodes: [ClusterNode] = []

    override func setUp() async throws {
        self.redis = try RedisTestServer()
        self.loops = try EventLoopGroup(loopCount: 1)
        try await self.redis.waitUntilReady(loop: self.loops.loops[0])
    }

    override func tearDown() async throws {
        for node in self.nodes { node.stop() }
        self.loops.shutdown(timeoutSeconds: 2)
        self.redis.stop()
    }

    private func node(port: Int = 0, recorder: EventRecorder) throws -> ClusterNode {
        let node = try ClusterNode(redisURL: self.redis.url, port: port, recovery: ConnectionStateRecoveryOptions()) { io in
            io.on(.connection) { socket in
                let name = (socket.data["name"] as? String) ?? (socket.data["name"] as? JSONValue)?.stringValue ?? "-"
                let rooms = socket.rooms.subtracting([socket.id]).sorted().joined(separator: ",")
                recorder.record("connect:\(socket.id):\(socket.recovered):\(name):\(rooms)")
            }
        }
        self.nodes.append(node)
        return node
    }

    private func redisReply(_ command: [RedisArgument]) async throws -> RESPValue {
        let client = RedisClient(configuration: try RedisConfiguration(url: self.redis.url), loop: self.loops.loops[0])
        client.connect()
        defer { client.close() }
        return try await client.send(command)
    }

    func testClientOfAStoppedNodeRecoversOnAnotherNode() async throws {
        let recorder = EventRecorder(defaultTimeout: 10)
        let nodeA = try self.node(recorder: recorder)
        let emitter = try self.node(recorder: recorder)
        let port = nodeA.server.port

        var options = SocketManagerOptions()
        options.transports = [.websocket]
        options.reconnectionDelay = .milliseconds(100)
        options.reconnectionDelayMax = .milliseconds(200)
        let manager = try SocketManager(url: nodeA.url, options: options)
        defer { manager.disconnect() }
        let events = EventRecorder(defaultTimeout: 10)
        let auth: JSONObject = ["name": "ada", "rooms": ["news"]]
        let socket = manager.socket("/", options: ClientSocketOptions(auth: auth))
        socket.on("tick") { args, _ in events.record("tick:\(args.first?.description ?? "")") }
        socket.onDisconnect { events.record("disconnect:\($0)") }
        try await socket.waitForConnection(timeout: .seconds(10))
        let id = try XCTUnwrap(socket.id)
        XCTAssertTrue(recorder.wait { $0.contains("connect:\(id):false:ada:news") }, "\(recorder.all)")

        // A broadcast from the other node reaches the client through Redis and gives it an offset.
        try await self.eventually { await emitter.cluster.serverCount() == 2 }
        emitter.io.to("news").emit("tick", 1)
        XCTAssertTrue(events.wait { $0.contains("tick:1") }, "\(events.all)")

        // Node A goes away; its sockets' sessions go to Redis.
        nodeA.stop()
        XCTAssertTrue(events.wait { $0.contains { $0.hasPrefix("disconnect:") } }, "\(events.all)")
        let sessionKey = "socket.io-session#/#"
        try await self.eventually {
            guard case .array(let keys)? = try? await self.redisReply(["KEYS", RedisArgument(sessionKey + "*")]) else { return false }
            return keys.count == 1
        }
        guard case .array(let keys) = try await self.redisReply(["KEYS", RedisArgument(sessionKey + "*")]),
              case .bulkString(let key)? = keys.first else { return XCTFail("no session key") }
        let ttl = try await self.redisReply(["PTTL", RedisArgument(key)])
        guard case .integer(let millis) = ttl, (1...120_000).contains(millis) else {
            return XCTFail("the session expires with maxDisconnectionDuration: \(ttl)")
        }

        // While no node holds the client: two broadcasts for it, one not.
        emitter.io.to("news").emit("tick", 2)
        emitter.io.to("sports").emit("tick", 99)
        emitter.io.emit("tick", 3)
        try await self.eventually {
            guard case .integer(let count)? = try? await self.redisReply(["LLEN", "socket.io-packets#/#"]) else { return false }
            return count == 4
        }

        // Node B takes A's port: the client reconnects there and recovers from Redis.
        _ = try self.node(port: port, recorder: recorder)
        XCTAssertTrue(recorder.wait { $0.contains("connect:\(id):true:ada:news") }, "\(recorder.all)")
        XCTAssertTrue(events.wait { $0.contains("tick:3") }, "\(events.all)")
        XCTAssertEqual(events.all.filter { $0.hasPrefix("tick:") }, ["tick:1", "tick:2", "tick:3"])
        XCTAssertTrue(socket.recovered)
        XCTAssertEqual(socket.id, id)
        // GETDEL: the session is gone from Redis once recovered.
        if case .array(let keys)? = try? await self.redisReply(["KEYS", RedisArgument(sessionKey + "*")]) {
            XCTAssertTrue(keys.isEmpty)
        }
        emitter.io.to("news").emit("tick", 4)
        XCTAssertTrue(events.wait { $0.contains("tick:4") }, "\(events.all)")
    }
}
