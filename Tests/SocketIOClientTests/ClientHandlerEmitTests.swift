import EngineIO
import Foundation
import SocketIO
@testable import SocketIOClient
import SocketIOTestSupport
import XCTest

/// Emits from a handler on the client's loop run at once when nothing is queued before them (they leave in the
/// write of the same loop iteration); what the packets say and their order stay as if each emit were queued.
final class ClientHandlerEmitTests: XCTestCase {
    private var servers: [InProcessSocketIOServer] = []

    override func tearDown() {
        for server in self.servers { server.shutdown() }
        self.servers = []
    }

    /// A server that records every event and disconnection of its sockets, answers `burst n` with `item 0`…`item
    /// n-1`, and greets each socket with `go`; plus a socket for it, not connected yet.
    private func start(_ transports: [EngineTransport]) throws -> (ClientSocket, Recorder) {
        let seen = Recorder(defaultTimeout: 20)
        let server = try ClientTestServer.make(setup: { io in
            io.on(.connection) { socket in
                socket.onAny { name, args in
                    seen.record("\(name) \(args.map { JSONSerializer.string($0) }.joined(separator: " "))")
                }
                socket.on(.disconnect) { _ in seen.record("disconnect") }
                socket.on("burst") { args, _ in
                    for index in 0..<(args.first?.intValue ?? 0) { socket.emit("item", .int(Int64(index))) }
                }
                socket.emit("go")
            }
        })
        self.servers.append(server)
        var options = SocketManagerOptions()
        options.transports = transports
        options.autoConnect = false
        return (try SocketManager(url: server.url, options: options).socket("/"), seen)
    }

    /// A `disconnect()` between two emits of a handler still comes between them: the second emit queues behind it
    /// and is never sent. (Over polling, emits that wait behind a POST in flight when the socket disconnects are
    /// dropped with the connection, as they were before emits from handlers ran at once.)
    func testEmitsAroundADisconnectKeepTheirOrder() throws {
        for transports in [[EngineTransport.websocket], [.polling]] {
            let (socket, seen) = try self.start(transports)
            // Weakly: a client keeps its handlers across reconnections, so a strong capture would keep it forever.
            socket.on("go") { [weak socket] _, _ in
                socket?.emit("x", 1)
                socket?.emit("x", 2)
                socket?.disconnect()
                socket?.emit("x", 3)
            }
            socket.connect()
            XCTAssertTrue(seen.wait(for: "disconnect"), "\(transports)")
            if transports == [.websocket] {
                XCTAssertEqual(seen.all, ["x 1", "x 2", "disconnect"])
            } else {
                XCTAssertEqual(seen.all.last, "disconnect")
                XCTAssertFalse(seen.all.contains("x 3"))
            }
        }
    }

    /// Answers emitted from the handler of each event of a burst (many per read) all arrive, once each, in order.
    func testAnswersToABurstArriveOnceEachInOrder() throws {
        let count = 500
        let (socket, seen) = try self.start([.websocket])
        socket.on("item") { [weak socket] args, _ in socket?.emit("answer", arguments: args) }
        socket.on("go") { [weak socket] _, _ in socket?.emit("burst", .int(Int64(count))) }
        socket.connect()
        let expected = ["burst \(count)"] + (0..<count).map { "answer \($0)" }
        XCTAssertTrue(seen.wait { $0.count >= expected.count }, "\(seen.all.count) of \(expected.count)")
        XCTAssertEqual(seen.all, expected)
        socket.disconnect()
    }
}
