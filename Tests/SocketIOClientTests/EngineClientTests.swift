import EngineIO
import Foundation
import HTTPKit
import SocketIO
@testable import SocketIOClient
import Synchronization
import Transport
import XCTest

/// Engine.IO behaviour: heartbeats, the ping timeout of a dead server, headers, query and path.
final class EngineClientTests: XCTestCase {
    func testAnswersPingsOnEveryTransport() async throws {
        let server = try ClientTestServer.make(engineOptions: { options in
            // A client that did not answer would be dropped after 150 + 1000 ms, inside the 2.5 s watched
            // below; the 1 s timeout leaves room for a loaded machine to deliver pings late.
            options.pingInterval = 150
            options.pingTimeout = 1000
        })
        defer { server.shutdown() }
        for transports: [EngineTransport] in [[.polling], [.websocket], [.polling, .websocket]] {
            var options = SocketManagerOptions()
            options.transports = transports
            let manager = try SocketManager(url: server.url, options: options)
            let socket = manager.socket("/")
            let recorder = Recorder()
            socket.onDisconnect { recorder.record("disconnect:\($0)") }
            try await socket.waitForConnection()
            // Several ping intervals: the server would drop a client that did not answer.
            try await Task.sleep(for: .milliseconds(2500))
            XCTAssertTrue(socket.isConnected, "\(transports)")
            XCTAssertEqual(recorder.all, [], "\(transports)")
            let answer = try await socket.emitWithAck("echo-ack", "alive")
            XCTAssertEqual(answer, ["alive"])
            manager.disconnect()
        }
    }

    func testDetectsASilentServerByThePingTimeout() async throws {
        // Answers the handshake, then never answers again: no pings, no polls.
        let server = try RawHTTPServer { head, index in
            guard index == 0 else { return nil }
            let open = #"0{"sid":"abcdefghijklmnopqrst","upgrades":[],"pingInterval":100,"pingTimeout":100,"maxPayload":1000000}"#
            return rawResponse(headers: ["Content-Type: text/plain; charset=UTF-8"], body: open)
        }
        defer { server.shutdown() }
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdown() }
        var options = EngineClientOptions()
        options.transports = [.polling]
        let delegate = EngineRecorder()
        let loop = group.next()
        let engine = EngineClient(loop: loop, endpoint: EngineEndpoint(host: "127.0.0.1", port: server.port),
                                  options: options, connector: TCPStreamConnector())
        let start = Date()
        loop.execute {
            engine.delegate = delegate
            engine.open()
        }
        XCTAssertTrue(delegate.recorder.wait(timeout: 10) { $0.contains { $0.hasPrefix("close:") } })
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(delegate.recorder.all, ["open:abcdefghijklmnopqrst", "close:ping timeout:true"])
        XCTAssertGreaterThanOrEqual(elapsed, 0.19)
        XCTAssertLessThan(elapsed, 5)
        XCTAssertTrue(server.received.first?.hasPrefix("GET /engine.io/?EIO=4&transport=polling&t=") ?? false, server.received.first ?? "")
    }

    func testSendsPathQueryAndExtraHeaders() async throws {
        let seen = Mutex<[String]>([])
        let server = try ClientTestServer.make(engineOptions: { $0.path = "/custom-path/" }, setup: { io in
            io.on(.connection) { socket in
                let query = socket.handshake.query
                seen.withLock {
                    $0.append("header:\(socket.handshake.headers["X-Worker"] ?? "-")")
                    $0.append("auth-header:\(socket.handshake.headers["Authorization"] ?? "-")")
                    $0.append("query:\(query["room"] ?? "-"):\(query["EIO"] ?? "-")")
                }
                socket.on("ping") { _, ack in ack?("pong") }
            }
        })
        defer { server.shutdown() }
        for transports: [EngineTransport] in [[.polling], [.websocket]] {
            seen.withLock { $0.removeAll() }
            var options = SocketManagerOptions()
            options.path = "/custom-path/"
            options.transports = transports
            options.query = [(name: "room", value: "a b&c")]
            options.extraHeaders = [(name: "X-Worker", value: "gpu-1"), (name: "Authorization", value: "Bearer t")]
            let manager = try SocketManager(url: server.url, options: options)
            let socket = manager.socket("/")
            try await socket.waitForConnection()
            let answer = try await socket.emitWithAck("ping")
            XCTAssertEqual(answer, ["pong"])
            XCTAssertEqual(seen.withLock { $0 }, ["header:gpu-1", "auth-header:Bearer t", "query:a b&c:4"], "\(transports)")
            manager.disconnect()
        }
    }

    func testURLParsing() {
        XCTAssertEqual(EngineEndpoint.parse("http://example.com")?.endpoint, EngineEndpoint(host: "example.com", port: 80))
        XCTAssertEqual(EngineEndpoint.parse("https://example.com/ns")?.endpoint, EngineEndpoint(secure: true, host: "example.com", port: 443))
        XCTAssertEqual(EngineEndpoint.parse("https://example.com/ns")?.path, "/ns")
        XCTAssertEqual(EngineEndpoint.parse("ws://[::1]:3000")?.endpoint, EngineEndpoint(host: "::1", port: 3000))
        XCTAssertEqual(EngineEndpoint.parse("wss://user:pw@host:8443/x?y")?.endpoint, EngineEndpoint(secure: true, host: "host", port: 8443))
        XCTAssertEqual(EngineEndpoint.parse("localhost:3000")?.endpoint, EngineEndpoint(host: "localhost", port: 3000))
        XCTAssertNil(EngineEndpoint.parse("ftp://x"))
        XCTAssertNil(EngineEndpoint.parse("http://host:notaport"))
        XCTAssertEqual(EngineEndpoint(host: "::1", port: 80).hostHeader, "[::1]")
        XCTAssertEqual(EngineEndpoint(secure: true, host: "h", port: 8443).hostHeader, "h:8443")
        XCTAssertEqual(QueryEncoding.encode("a b&c=é"), "a%20b%26c%3D%C3%A9")
    }

    func testConnectsOverIPv6WhenAvailable() async throws {
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdown() }
        let engine = EngineServer(options: .socketIO)
        let io = SocketIOServer(engine: engine)
        io.on(.connection) { socket in socket.on("hi") { _, ack in ack?("v6") } }
        let chain = HTTPHandlerChain([(claims: { @Sendable head in engine.claims(head) }, handler: engine)])
        let http: HTTPServer
        do {
            http = try HTTPServer(configuration: HTTPServerConfiguration(host: "::1", port: 0), group: group, handler: chain)
        } catch {
            throw XCTSkip("no IPv6 loopback: \(error)")
        }
        defer {
            http.stopAccepting()
            io.close()
        }
        let manager = try SocketManager(url: "http://[::1]:\(http.port)")
        let socket = manager.socket("/")
        try await socket.waitForConnection()
        let answer = try await socket.emitWithAck("hi")
        XCTAssertEqual(answer, ["v6"])
        manager.disconnect()
    }
}

private final class EngineRecorder: EngineClientDelegate, @unchecked Sendable {
    let recorder = Recorder()

    func engineDidOpen(_ engine: EngineClient, info: EngineOpenInfo) {
        self.recorder.record("open:\(info.sid)")
    }

    func engine(_ engine: EngineClient, didReceiveMessage packet: EnginePacket) {
        self.recorder.record("message:\(packet)")
    }

    func engine(_ engine: EngineClient, didCloseWith reason: EngineClientCloseReason, wasOpen: Bool) {
        self.recorder.record("close:\(reason):\(wasOpen)")
    }
}
