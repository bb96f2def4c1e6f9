import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SocketIO
import SocketIOClient
import SocketIOTestSupport
import Synchronization
import XCTest

/// `SocketIOApp` and the argument forms shared by the server and the client, through real sockets: our Swift
/// client against an app on a free port, HTTP routes fetched with URLSession.
final class SocketIOAppTests: XCTestCase {
    private struct Point: Codable, Sendable, Equatable {
        var x: Int
        var y: Int
    }

    private static func json(_ values: [JSONValue]) -> String {
        String(decoding: JSONSerializer.serialize(.array(values)), as: UTF8.self)
    }

    /// An app on 127.0.0.1 and a free port, running in a task until `stop()`.
    private func startApp(_ setup: (SocketIOApp) -> Void) throws -> (SocketIOApp, Task<Void, any Error>) {
        var engineOptions = EngineServerOptions.socketIO
        engineOptions.pingInterval = 25_000
        engineOptions.pingTimeout = 20_000
        let app = try SocketIOApp(host: "127.0.0.1", port: 0, loops: 2, engineOptions: engineOptions)
        setup(app)
        try app.start()
        let running = Task { try await app.run() }
        return (app, running)
    }

    private func connect(_ app: SocketIOApp, auth: JSONObject? = nil) async throws -> (SocketManager, ClientSocket) {
        var options = SocketManagerOptions()
        options.autoConnect = false
        options.reconnection = false
        let manager = try SocketManager(url: "http://127.0.0.1:\(app.port)", options: options)
        let socket = manager.socket("/", options: ClientSocketOptions(auth: auth))
        return (manager, socket)
    }

    func testRoutesBesideSocketIOAndGracefulStop() async throws {
        let (app, running) = try self.startApp { app in
            app.router.get("/hello/:name") { request in
                .html("<p>hello \(request.params["name"] ?? "")</p>")
            }
            app.io.on(.connection) { socket in
                socket.emit("welcome", ["id": socket.id])
            }
        }
        let events = EventRecorder(defaultTimeout: 10)
        let (_, socket) = try await self.connect(app)
        socket.on("welcome") { args, _ in events.record("welcome:\(args.first?["id"]?.stringValue ?? "-")") }
        socket.onDisconnect { reason in events.record("disconnect:\(reason)") }
        socket.connect()
        try await socket.waitForConnection(timeout: .seconds(10))
        XCTAssertTrue(events.wait(for: "welcome:\(socket.id ?? "?")"), "\(events.all)")

        let (page, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(app.port)/hello/ada")!)
        XCTAssertEqual((response as? HTTPURLResponse)?.statusCode, 200)
        XCTAssertEqual(String(decoding: page, as: UTF8.self), "<p>hello ada</p>")
        let (_, missing) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(app.port)/nowhere")!)
        XCTAssertEqual((missing as? HTTPURLResponse)?.statusCode, 404)

        // stop() ends run(): the client hears that the server left, and the port no longer accepts.
        let port = app.port
        let stopped = Mutex(false)
        app.onShutdown { stopped.withLock { $0 = true } }
        app.stop()
        try await running.value
        XCTAssertTrue(stopped.withLock { $0 })
        // As Node's io.close(): the connection closes with a transport reason, so clients reconnect to the next server.
        XCTAssertTrue(events.wait(for: "disconnect:transport close"), "\(events.all)")
        let probe = URLSession(configuration: .ephemeral)
        let refused = try? await probe.data(for: URLRequest(url: URL(string: "http://127.0.0.1:\(port)/hello/x")!,
                                                            timeoutInterval: 5))
        XCTAssertNil(refused)
    }

    func testSwiftValuesAndEncodableTravelAsJSONAndBinary() async throws {
        let (app, running) = try self.startApp { app in
            app.io.on(.connection) { socket in
                let name = "ada"
                let score = 42
                socket.join("players")
                socket.on("values") { _, ack in
                    socket.emit("values", name, score, 2.5, true, ["from": socket.id], [1, 2, 3], Point(x: 1, y: 2))
                    socket.emit("binary", Data([0, 1, 255]))
                    app.io.to("players").emit("room", ["who": name])
                    try? app.io.to("players").emit("room-encoded", encoding: Point(x: 3, y: 4))
                    socket.compress(false).emit("uncompressed", score)
                    ack?(Double(score) / 8)
                }
            }
        }
        let events = EventRecorder(defaultTimeout: 10)
        let (_, socket) = try await self.connect(app)
        for name in ["values", "room", "uncompressed"] {
            socket.on(name) { args, _ in events.record("\(name):\(SocketIOAppTests.json(args))") }
        }
        // JSONEncoder's key order is its own: compare members.
        socket.on("room-encoded") { args, _ in
            events.record("room-encoded:\(args.first?["x"]?.intValue ?? 0),\(args.first?["y"]?.intValue ?? 0)")
        }
        socket.on("binary") { args, _ in events.record("binary:\(args.first?.binaryValue ?? [])") }
        socket.connect()
        try await socket.waitForConnection(timeout: .seconds(10))
        let answer = try await socket.emitWithAck("values", timeout: .seconds(10))
        XCTAssertEqual(answer, [.double(5.25)])
        let id = socket.id ?? "?"
        XCTAssertTrue(events.wait(for: #"values:["ada",42,2.5,true,{"from":"\#(id)"},[1,2,3],{"x":1,"y":2}]"#), "\(events.all)")
        XCTAssertTrue(events.wait(for: "binary:[0, 1, 255]"), "\(events.all)")
        XCTAssertTrue(events.wait(for: #"room:[{"who":"ada"}]"#), "\(events.all)")
        XCTAssertTrue(events.wait(for: "room-encoded:3,4"), "\(events.all)")
        XCTAssertTrue(events.wait(for: "uncompressed:[42]"), "\(events.all)")
        app.stop()
        try await running.value
    }

    func testResultAcksDurationTimeoutsAsyncHandlersAndOffByID() async throws {
        let (app, running) = try self.startApp { app in
            app.io.on(.connection) { socket in
                // The client answers `question` but not `ignored`: success, then a timeout, as Results.
                socket.on("ask") { _, ack in
                    socket.timeout(.seconds(5)).emit("question", 7) { result in
                        guard case .success(let answer) = result else {
                            ack?("failed")
                            return
                        }
                        socket.timeout(.milliseconds(100)).emit("ignored") { result in
                            ack?(answer.first?.intValue ?? -1, result == .failure(.timeout))
                        }
                    }
                }
                // An async handler awaiting the client's answer.
                socket.on("ask-async") { _, ack in
                    let answer = try? await socket.emitWithAck("question", 20, timeout: .seconds(5))
                    ack?(answer?.first?.intValue ?? -1)
                }
                // A handler removed by the id `on` returned never runs.
                let removed = socket.on("removed") { _, ack in ack?("still here") }
                socket.off(removed)
                socket.on("removed") { _, ack in ack?("removed") }
                // Broadcast acknowledgements with a Duration, from the namespace.
                socket.on("ask-everyone") { _, ack in
                    Task {
                        let answers = try? await app.io.timeout(.seconds(5)).emitWithAck("question", 1)
                        ack?(answers ?? [])
                    }
                }
            }
        }
        let (_, socket) = try await self.connect(app)
        socket.on("question") { args, ack in ack?((args.first?.intValue ?? 0) * 2) }
        let clientRemoved = socket.on("ignored") { _, ack in ack?("should not answer") }
        socket.off(clientRemoved)
        socket.connect()
        try await socket.waitForConnection(timeout: .seconds(10))

        let answer = try await socket.emitWithAck("ask", timeout: .seconds(10))
        XCTAssertEqual(answer, [.int(14), .bool(true)])
        let asyncAnswer = try await socket.emitWithAck("ask-async", timeout: .seconds(10))
        XCTAssertEqual(asyncAnswer, [.int(40)])
        let removedAnswer = try await socket.emitWithAck("removed", timeout: .seconds(10))
        XCTAssertEqual(removedAnswer, [.string("removed")])
        let everyone = try await socket.emitWithAck("ask-everyone", timeout: .seconds(10))
        XCTAssertEqual(everyone, [.array([.int(2)])])

        // The client's Result callback, with a Duration timeout, on an event the server never answers.
        let outcome = EventRecorder(defaultTimeout: 10)
        socket.emit("nobody-listens", 1, timeout: .milliseconds(200)) { result in
            outcome.record(result == .failure(.timeout) ? "timeout" : "\(result)")
        }
        XCTAssertTrue(outcome.wait(for: "timeout"), "\(outcome.all)")
        app.stop()
        try await running.value
    }
}
