import Foundation
import SocketIO
import SocketIORedis
import Transport
import XCTest

/// python-socketio clients on one node, driven from another node through Redis.
final class PythonClientClusterTests: XCTestCase {
    func testPythonClientsReachedAcrossNodes() async throws {
        let redis = try RedisTestServer()
        let loops = try EventLoopGroup(loopCount: 1)
        defer {
            loops.shutdown(timeoutSeconds: 2)
            redis.stop()
        }
        try await redis.waitUntilReady(loop: loops.loops[0])
        let a = try ClusterNode(redisURL: redis.url)
        let b = try ClusterNode(redisURL: redis.url)
        defer {
            a.stop()
            b.stop()
        }
        let deadline = Date(timeIntervalSinceNow: 10)
        while await a.cluster.serverCount() < 2 && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let py = try PythonClusterClient(url: b.url, name: "py", rooms: ["r1"])
        defer { py.close() }

        a.io.to("r1").emit("hello", "x", ["bytes": .binary([0, 1, 254])], .double(1.5))
        XCTAssertTrue(py.saw(#"event hello ["x",{"bytes":{"hex":"0001fe"}},1.5]"#))

        let answers = try await a.io.to("r1").timeout(.seconds(5)).emitWithAck("ask")
        XCTAssertEqual(answers, ["answer from py"])

        let sockets = await a.io.fetchSockets()
        XCTAssertEqual(sockets.map(\.id), [py.id])
        XCTAssertEqual(sockets.first?.handshake.auth["name"], "py")
        XCTAssertEqual(sockets.first?.data["name"] as? JSONValue, "py")

        sockets.first?.emit("private", "only you")
        XCTAssertTrue(py.saw(#"event private ["only you"]"#))
        a.io.in("r1").disconnectSockets()
        XCTAssertTrue(py.saw("disconnected"))
    }
}
