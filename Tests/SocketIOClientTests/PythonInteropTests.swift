import EngineIO
import Foundation
import SocketIOClient
import XCTest

/// The client against python-socketio (AsyncServer on aiohttp), over polling, websocket and upgrade.
final class PythonInteropTests: XCTestCase {
    private static let modes: [(String, [EngineTransport], String)] = [
        ("polling", [.polling], "polling"),
        ("websocket", [.websocket], "websocket"),
        ("upgrade", [.polling, .websocket], "websocket"),
    ]

    private func manager(_ url: String, _ transports: [EngineTransport]) throws -> SocketManager {
        var options = SocketManagerOptions()
        options.transports = transports
        options.reconnectionDelay = .milliseconds(100)
        options.reconnectionDelayMax = .milliseconds(300)
        return try SocketManager(url: url, options: options)
    }

    func testEventsAcksBinaryAndNamespaces() async throws {
        let server = try PythonServer()
        defer { server.stop() }
        for (name, transports, expected) in Self.modes {
            let manager = try self.manager(server.url, transports)
            let socket = manager.socket("/", options: ClientSocketOptions(auth: ["token": "abc"]))
            let custom = manager.socket("/custom")
            let welcome = socket.events("welcome")
            try await socket.waitForConnection()
            try await custom.waitForConnection()
            let greeting = await next(welcome)
            XCTAssertEqual(greeting?.arguments, ["/", ["token": "abc"]], name)

            let echoes = socket.events("echo")
            socket.emit("echo", "hello", 1.5, ["k": [true, .null]])
            let echo = await next(echoes)
            XCTAssertEqual(echo?.arguments, ["hello", 1.5, ["k": [true, .null]]], name)

            let ack = try await custom.emitWithAck("echo-ack", "x", 2, timeout: .seconds(10))
            XCTAssertEqual(ack, ["x", 2], name)

            let blob = Data((0...255).map { UInt8($0) })
            let binary = try await socket.emitWithAck("echo-ack", .data(blob), ["nested": .binary([7, 8])], timeout: .seconds(10))
            XCTAssertEqual(binary.first?.dataValue, blob, name)
            XCTAssertEqual(binary.last?["nested"]?.binaryValue, [7, 8], name)

            let answers = socket.events("answer")
            socket.on("question") { args, ack in ack?.send(arguments: args + ["swift"]) }
            socket.emit("ask-client", "q", .binary([1]))
            let answer = await next(answers)
            XCTAssertEqual(answer?.arguments, ["q", .binary([1]), "swift"], name)

            let deadline = Date(timeIntervalSinceNow: 10)
            var transport = ""
            while Date() < deadline {
                transport = try await socket.emitWithAck("transport", timeout: .seconds(5)).first?.stringValue ?? ""
                if transport == expected { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            XCTAssertEqual(transport, expected, name)

            // A refused namespace on the same connection.
            let restricted = manager.socket("/restricted", options: ClientSocketOptions(auth: ["token": "nope"]))
            do {
                try await restricted.waitForConnection(timeout: .seconds(10))
                XCTFail("\(name): admitted")
            } catch let error as ClientConnectError {
                XCTAssertEqual(error.kind, .refused, name)
                XCTAssertEqual(error.message, "not authorized", name)
                XCTAssertEqual(error.data?["reason"], "bad token", name)
            }

            // Server-side disconnect.
            let disconnects = Recorder()
            custom.onDisconnect { disconnects.record("\($0)") }
            custom.emit("server-disconnect")
            XCTAssertTrue(disconnects.wait(for: "io server disconnect"), name)
            XCTAssertTrue(socket.isConnected, name)
            manager.disconnect()
        }
    }

    func testAckTimeoutAndTenThousandMessagesInOrder() async throws {
        let server = try PythonServer()
        defer { server.stop() }
        for (name, transports, _) in Self.modes {
            let manager = try self.manager(server.url, transports)
            let socket = manager.socket("/")
            try await socket.waitForConnection()
            do {
                _ = try await socket.emitWithAck("ignore", timeout: .milliseconds(200))
                XCTFail("\(name): answered")
            } catch let error as ClientAckError {
                XCTAssertEqual(error, .timeout, name)
            }
            let count = 10_000
            let bursts = socket.events("burst")
            socket.emit("burst", .int(Int64(count)))
            let echoes = socket.events("echo")
            for i in 0..<count { socket.emit("echo", .int(Int64(i))) }
            let inOrder = try await withThrowingTaskGroup(of: Bool.self) { group -> Bool in
                group.addTask {
                    var next = 0
                    for await message in echoes {
                        guard message.arguments.first?.intValue == next else { return false }
                        next += 1
                        if next == count { break }
                    }
                    var burst = 0
                    for await message in bursts {
                        guard message.arguments.first?.intValue == burst else { return false }
                        burst += 1
                        if burst == count { return true }
                    }
                    return false
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(120))
                    return false
                }
                let result = try await group.next() ?? false
                group.cancelAll()
                return result
            }
            XCTAssertTrue(inOrder, "\(name): \(count) messages each way, in order")
            manager.disconnect()
        }
    }

    func testHeartbeatAndReconnectionAfterRestart() async throws {
        var server = try PythonServer(arguments: ["--ping-interval", "0.25", "--ping-timeout", "0.6"])
        let port = server.port
        defer { server.stop() }
        let manager = try self.manager(server.url, [.polling, .websocket])
        let socket = manager.socket("/")
        let custom = manager.socket("/custom")
        let recorder = Recorder()
        socket.onConnect { recorder.record("connect") }
        socket.onDisconnect { recorder.record("disconnect:\($0)") }
        custom.onConnect { recorder.record("custom-connect") }
        try await socket.waitForConnection()
        try await custom.waitForConnection()
        // Several heartbeats pass without a disconnect.
        try await Task.sleep(for: .milliseconds(1200))
        XCTAssertEqual(recorder.all.filter { $0.hasPrefix("disconnect") }, [])

        server.stop()
        XCTAssertTrue(recorder.wait(timeout: 10) { $0.contains { $0.hasPrefix("disconnect:") } })
        server = try PythonServer(port: port, arguments: ["--ping-interval", "0.25", "--ping-timeout", "0.6"])
        XCTAssertTrue(recorder.wait(timeout: 20) { $0.filter { $0 == "connect" }.count == 2 && $0.filter { $0 == "custom-connect" }.count == 2 },
                      "\(recorder.all)")
        let answer = try await custom.emitWithAck("echo-ack", "back", timeout: .seconds(10))
        XCTAssertEqual(answer, ["back"])
        manager.disconnect()
    }
}
