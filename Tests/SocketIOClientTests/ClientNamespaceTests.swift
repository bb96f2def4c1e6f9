import EngineIO
import Foundation
@testable import SocketIOClient
import SocketIOTestSupport
import XCTest

/// Namespaces share one connection; refusals, server and client disconnects, buffering, volatile, acks.
final class ClientNamespaceTests: XCTestCase {
    private var server: InProcessSocketIOServer!

    override func setUpWithError() throws {
        self.server = try ClientTestServer.make()
    }

    override func tearDown() {
        self.server.shutdown()
        self.server = nil
    }

    private func makeManager(_ transports: [EngineTransport] = [.websocket], configure: (inout SocketManagerOptions) -> Void = { _ in }) throws -> SocketManager {
        var options = SocketManagerOptions()
        options.transports = transports
        options.reconnectionDelay = .milliseconds(50)
        options.reconnectionDelayMax = .milliseconds(200)
        configure(&options)
        return try SocketManager(url: self.server.url, options: options)
    }

    func testNamespacesShareOneEngineSession() async throws {
        for transports: [EngineTransport] in [[.polling], [.websocket], [.polling, .websocket]] {
            let manager = try self.makeManager(transports)
            let main = manager.socket("/")
            let custom = manager.socket("/custom")
            XCTAssertTrue(manager.socket("/custom") === custom, "one socket per namespace")
            try await main.waitForConnection()
            try await custom.waitForConnection()
            XCTAssertEqual(self.server.engine.sessionCount, 1)
            let a = try await main.emitWithAck("echo-ack", "main")
            let b = try await custom.emitWithAck("echo-ack", "custom")
            XCTAssertEqual(a, ["main"])
            XCTAssertEqual(b, ["custom"])
            // Leaving one namespace keeps the connection for the other.
            custom.disconnect()
            let c = try await main.emitWithAck("echo-ack", "still")
            XCTAssertEqual(c, ["still"])
            XCTAssertTrue(manager.isOpen)
            main.disconnect()
            let deadline = Date(timeIntervalSinceNow: 5)
            while self.server.engine.sessionCount > 0 && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
            XCTAssertEqual(self.server.engine.sessionCount, 0, "the connection closes with its last socket")
            XCTAssertFalse(manager.isOpen)
        }
    }

    func testMiddlewareRefusalIsAConnectErrorWithoutRetry() async throws {
        // Connected by hand once the handlers are in place: a refusal may come back before they would be.
        let manager = try self.makeManager { $0.autoConnect = false }
        let recorder = Recorder()
        let refused = manager.socket("/restricted", options: ClientSocketOptions(auth: ["token": "wrong"]))
        refused.onConnectError { error in recorder.record("error:\(error.kind):\(error.message):\(error.data?["reason"]?.stringValue ?? "")") }
        refused.onConnect { recorder.record("connect") }
        refused.connect()
        do {
            try await refused.waitForConnection(timeout: .seconds(10))
            XCTFail("connected despite the middleware")
        } catch let error as ClientConnectError {
            XCTAssertEqual(error.kind, .refused)
            XCTAssertEqual(error.message, "not authorized")
            XCTAssertEqual(error.data?["reason"], "bad token")
        }
        XCTAssertFalse(refused.isActive)
        try await Task.sleep(for: .milliseconds(300))
        XCTAssertEqual(recorder.all, ["error:refused:not authorized:bad token"], "no retry after a refusal")

        let admitted = manager.socket("/custom")
        admitted.connect()
        try await admitted.waitForConnection()
        let allowedManager = try self.makeManager()
        let allowed = allowedManager.socket("/restricted", options: ClientSocketOptions(auth: ["token": "secret"]))
        try await allowed.waitForConnection()
        XCTAssertTrue(allowed.isConnected)
        manager.disconnect()
        allowedManager.disconnect()
    }

    func testServerDisconnectEndsTheSocketWithoutReconnection() async throws {
        let manager = try self.makeManager()
        let socket = manager.socket("/")
        let recorder = Recorder()
        socket.onDisconnect { recorder.record("disconnect:\($0)") }
        socket.onConnect { recorder.record("connect") }
        try await socket.waitForConnection()
        socket.emit("server-disconnect")
        XCTAssertTrue(recorder.wait(for: "disconnect:io server disconnect"))
        try await Task.sleep(for: .milliseconds(400))
        XCTAssertEqual(recorder.all, ["connect", "disconnect:io server disconnect"])
        XCTAssertFalse(socket.isActive)
        // connect() brings it back by hand.
        socket.connect()
        XCTAssertTrue(recorder.wait { $0.filter { $0 == "connect" }.count == 2 })
        manager.disconnect()
    }

    func testClientDisconnectReasonAndPendingAcksFail() async throws {
        let manager = try self.makeManager()
        let socket = manager.socket("/")
        let recorder = Recorder()
        socket.onDisconnect { recorder.record("disconnect:\($0)") }
        try await socket.waitForConnection()
        async let pending = socket.emitWithAck("ignore", timeout: .seconds(30))
        try await Task.sleep(for: .milliseconds(100))
        socket.disconnect()
        do {
            _ = try await pending
            XCTFail("ack answered")
        } catch let error as ClientAckError {
            XCTAssertEqual(error, .disconnected)
        }
        XCTAssertTrue(recorder.wait(for: "disconnect:io client disconnect"))
    }

    func testAckTimeout() async throws {
        let manager = try self.makeManager([.polling])
        let socket = manager.socket("/")
        try await socket.waitForConnection()
        let start = Date()
        do {
            _ = try await socket.emitWithAck("ignore", timeout: .milliseconds(200))
            XCTFail("ack answered")
        } catch let error as ClientAckError {
            XCTAssertEqual(error, .timeout)
        }
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertGreaterThanOrEqual(elapsed, 0.19)
        XCTAssertLessThan(elapsed, 3)
        // The closure form reports the timeout too.
        let recorder = Recorder()
        socket.emit("ignore", timeout: .milliseconds(100)) { result in
            if case .failure(let error) = result { recorder.record("\(error)") }
        }
        XCTAssertTrue(recorder.wait(for: "operation has timed out"))
        manager.disconnect()
    }

    func testCancellingEmitWithAck() async throws {
        let manager = try self.makeManager()
        let socket = manager.socket("/")
        try await socket.waitForConnection()
        let task = Task { try await socket.emitWithAck("ignore", timeout: .seconds(30)) }
        try await Task.sleep(for: .milliseconds(50))
        task.cancel()
        do {
            _ = try await task.value
            XCTFail("not cancelled")
        } catch let error as ClientAckError {
            XCTAssertEqual(error, .cancelled)
        }
        manager.disconnect()
    }

    func testEventsEmittedBeforeConnectingAreBuffered() async throws {
        let manager = try self.makeManager([.polling]) { $0.autoConnect = false }
        let socket = manager.socket("/")
        let echoes = socket.events("echo")
        for i in 0..<5 { socket.emit("echo", .int(Int64(i))) }
        XCTAssertFalse(socket.isConnected)
        socket.connect()
        var received: [Int] = []
        while received.count < 5, let message = await next(echoes) {
            received.append(message.arguments.first?.intValue ?? -1)
        }
        XCTAssertEqual(received, [0, 1, 2, 3, 4])
        manager.disconnect()
    }

    func testBufferingCanBeTurnedOff() async throws {
        let manager = try self.makeManager { $0.autoConnect = false }
        var socketOptions = ClientSocketOptions()
        socketOptions.bufferWhileDisconnected = false
        let socket = manager.socket("/", options: socketOptions)
        let recorder = Recorder()
        socket.on("echo") { args, _ in recorder.record("echo:\(args.first?.stringValue ?? "")") }
        socket.emit("echo", "dropped")
        socket.connect()
        try await socket.waitForConnection()
        socket.emit("echo", "sent")
        XCTAssertTrue(recorder.wait(for: "echo:sent"))
        XCTAssertEqual(recorder.all, ["echo:sent"])
        manager.disconnect()
    }

    func testVolatileEmitsAreDroppedWhileDisconnected() async throws {
        let manager = try self.makeManager { $0.autoConnect = false }
        let socket = manager.socket("/")
        let recorder = Recorder()
        socket.on("echo") { args, _ in recorder.record("echo:\(args.first?.stringValue ?? "")") }
        socket.volatile.emit("echo", "volatile-dropped")
        socket.emit("echo", "buffered")
        socket.connect()
        try await socket.waitForConnection()
        socket.volatile.emit("echo", "volatile-sent")
        XCTAssertTrue(recorder.wait(for: "echo:volatile-sent"))
        XCTAssertEqual(recorder.all, ["echo:buffered", "echo:volatile-sent"])
        manager.disconnect()
    }

    func testOnAnyAndClosureHandlers() async throws {
        let manager = try self.makeManager()
        let socket = manager.socket("/")
        let recorder = Recorder()
        socket.onAny { name, args in recorder.record("any:\(name):\(args.count)") }
        let id = socket.on("echo") { _, _ in recorder.record("removed") }
        socket.off(id)
        socket.on("echo", as: String.self) { value, _ in recorder.record("typed:\(value)") }
        try await socket.waitForConnection()
        socket.emit("echo", "x", 2)
        XCTAssertTrue(recorder.wait(for: "any:echo:2"))
        XCTAssertTrue(recorder.all.contains("typed:x"))
        XCTAssertFalse(recorder.all.contains("removed"))
        manager.disconnect()
    }

    func testTenThousandMessagesInOrder() async throws {
        for transports: [EngineTransport] in [[.websocket], [.polling], [.polling, .websocket]] {
            let manager = try self.makeManager(transports)
            let socket = manager.socket("/")
            try await socket.waitForConnection()
            let echoes = socket.events("echo")
            let count = 10_000
            for i in 0..<count { socket.emit("echo", .int(Int64(i))) }
            let ok = await withTaskGroup(of: Bool.self) { group -> Bool in
                group.addTask {
                    var expected = 0
                    for await message in echoes {
                        guard message.arguments.first?.intValue == expected else { return false }
                        expected += 1
                        if expected == count { return true }
                    }
                    return false
                }
                group.addTask {
                    try? await Task.sleep(for: .seconds(60))
                    return false
                }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            XCTAssertTrue(ok, "\(transports): all \(count) echoes in order")
            // And the server sees the client's order too: a burst the other way.
            let bursts = socket.events("burst")
            socket.emit("burst", .int(Int64(count)))
            let burstsInOrder = await withTaskGroup(of: Bool.self) { group -> Bool in
                group.addTask {
                    var expected = 0
                    for await message in bursts {
                        guard message.arguments.first?.intValue == expected else { return false }
                        expected += 1
                        if expected == count { return true }
                    }
                    return false
                }
                group.addTask {
                    try? await Task.sleep(for: .seconds(60))
                    return false
                }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            XCTAssertTrue(burstsInOrder, "\(transports): server burst in order")
            manager.disconnect()
        }
    }
}
