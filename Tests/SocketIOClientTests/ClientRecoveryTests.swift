import EngineIO
import Foundation
import SocketIO
@testable import SocketIOClient
import SocketIOTestSupport
import XCTest

/// Connection state recovery seen by our client against our server: after its connection is cut, the client
/// reconnects with `{pid, offset}`, keeps its socket id and room, and gets the broadcasts it missed, in order.
final class ClientRecoveryTests: XCTestCase {
    private func makeServer(recovery: Bool) throws -> InProcessSocketIOServer {
        try InProcessSocketIOServer(port: 0, loops: 1, options: { options in
            options.connectionStateRecovery = recovery ? ConnectionStateRecoveryOptions() : nil
        }, setup: { io in
            io.on(.connection) { socket in
                if !socket.recovered { socket.join("news") }
                // The auth the client sent, to check that its own fields survive the merge with pid/offset.
                socket.emit("auth", socket.handshake.auth)
            }
        })
    }

    private func makeManager(_ server: InProcessSocketIOServer, transports: [EngineTransport]) throws -> SocketManager {
        var options = SocketManagerOptions()
        options.transports = transports
        options.reconnectionDelay = .milliseconds(200)
        options.reconnectionDelayMax = .milliseconds(200)
        options.randomizationFactor = 0
        return try SocketManager(url: server.url, options: options)
    }

    func testCutConnectionRecoversAndReplaysMissedBroadcasts() async throws {
        for transports: [EngineTransport] in [[.websocket], [.polling]] {
            let server = try self.makeServer(recovery: true)
            defer { server.shutdown() }
            let manager = try self.makeManager(server, transports: transports)
            defer { manager.disconnect() }
            let recorder = EventRecorder(defaultTimeout: 10)
            let socket = manager.socket("/", options: ClientSocketOptions(auth: ["token": "t"]))
            socket.on("tick") { args, _ in recorder.record("tick:\(args.first?.description ?? "")") }
            socket.on("auth") { args, _ in recorder.record("auth:\(args.first?["token"]?.stringValue ?? "-")") }
            socket.onConnect { recorder.record("connect") }
            socket.onDisconnect { recorder.record("disconnect:\($0)") }
            try await socket.waitForConnection()
            XCTAssertFalse(socket.recovered)
            let firstID = socket.id
            server.io.to("news").emit("tick", 1)
            XCTAssertTrue(recorder.wait { $0.contains("tick:1") }, "\(transports): \(recorder.all)")

            // The server drops every connection without a DISCONNECT packet: a network blip for the client.
            server.engine.closeAllSessions()
            XCTAssertTrue(recorder.wait { $0.contains { $0.hasPrefix("disconnect:") } }, "\(transports): \(recorder.all)")
            server.io.to("news").emit("tick", 2)
            server.io.emit("tick", 3)
            server.io.to("elsewhere").emit("tick", 99)

            XCTAssertTrue(recorder.wait { $0.filter { $0 == "connect" }.count == 2 && $0.contains("tick:3") },
                          "\(transports): \(recorder.all)")
            XCTAssertTrue(socket.recovered, "\(transports)")
            XCTAssertEqual(socket.id, firstID, "\(transports): the same socket id")
            XCTAssertEqual(recorder.all.filter { $0.hasPrefix("tick:") }, ["tick:1", "tick:2", "tick:3"], "\(transports)")
            XCTAssertEqual(recorder.all.filter { $0.hasPrefix("auth:") }, ["auth:t", "auth:t"], "\(transports)")

            // Still in its room: live broadcasts keep coming.
            server.io.to("news").emit("tick", 4)
            XCTAssertTrue(recorder.wait { $0.contains("tick:4") }, "\(transports): \(recorder.all)")
        }
    }

    func testWithoutRecoveryOnTheServerTheClientGetsANewSocket() async throws {
        let server = try self.makeServer(recovery: false)
        defer { server.shutdown() }
        let manager = try self.makeManager(server, transports: [.websocket])
        defer { manager.disconnect() }
        let recorder = EventRecorder(defaultTimeout: 10)
        let socket = manager.socket("/")
        socket.onConnect { recorder.record("connect") }
        try await socket.waitForConnection()
        let firstID = socket.id
        server.engine.closeAllSessions()
        XCTAssertTrue(recorder.wait { $0.filter { $0 == "connect" }.count == 2 }, "\(recorder.all)")
        XCTAssertFalse(socket.recovered)
        XCTAssertNotEqual(socket.id, firstID)
    }
}
