import EngineIO
import Foundation
import SocketIO
import Synchronization

/// An in-process Socket.IO server on 127.0.0.1 and a kernel-chosen port, with two loops so that clients
/// land on different loops (round robin) and broadcasts cross loops.
final class TestSocketIOServer: Sendable {
    let engine: EngineServer
    let io: SocketIOServer
    let http: HTTPServer
    let group: EventLoopGroup

    /// `setup` registers handlers before the server accepts anything.
    init(loops: Int = 2,
         engineOptions configureEngine: (inout EngineServerOptions) -> Void = { _ in },
         options configure: (inout SocketIOServerOptions) -> Void = { _ in },
         setup: (SocketIOServer) -> Void) throws {
        var engineOptions = EngineServerOptions.socketIO
        engineOptions.pingInterval = 25_000
        engineOptions.pingTimeout = 20_000
        engineOptions.cors = .any
        configureEngine(&engineOptions)
        var options = SocketIOServerOptions()
        configure(&options)
        let engine = EngineServer(options: engineOptions)
        let io = SocketIOServer(engine: engine, options: options)
        setup(io)
        let group = try EventLoopGroup(loopCount: loops)
        let chain = HTTPHandlerChain([(claims: { @Sendable head in engine.claims(head) }, handler: engine)])
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.limits.maxBodySize = engineOptions.maxHttpBufferSize
        do {
            self.http = try HTTPServer(configuration: configuration, group: group, handler: chain)
        } catch {
            group.shutdown(timeoutSeconds: 2)
            throw error
        }
        self.engine = engine
        self.io = io
        self.group = group
    }

    var port: Int { self.http.port }

    func shutdown() {
        self.http.stopAccepting()
        self.io.close()
        let deadline = Date(timeIntervalSinceNow: 2)
        while self.engine.sessionCount > 0 && Date() < deadline { usleep(5_000) }
        self.group.shutdown(timeoutSeconds: 2)
    }
}

/// Things handlers saw, for tests to wait on.
final class TestRecorder: Sendable {
    private let entries = Mutex<[String]>([])

    func record(_ entry: String) {
        self.entries.withLock { $0.append(entry) }
    }

    var all: [String] { self.entries.withLock { $0 } }

    /// Waits until `condition` holds on the entries; returns whether it did within `timeout`.
    @discardableResult
    func wait(timeout: TimeInterval = 3, until condition: ([String]) -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while true {
            if condition(self.all) { return true }
            if Date() >= deadline { return false }
            usleep(2_000)
        }
    }

    /// Waits until `entry` was recorded.
    @discardableResult
    func wait(for entry: String, timeout: TimeInterval = 3) -> Bool {
        self.wait(timeout: timeout) { $0.contains(entry) }
    }
}

/// The handlers of the official socket.io-protocol test suite (as sio-echo installs them).
enum TestSuiteApp {
    static func install(on io: SocketIOServer) {
        io.on(.connection) { self.handlers($0) }
        io.of("/custom").on(.connection) { self.handlers($0) }
    }

    static func handlers(_ socket: Socket) {
        socket.emit("auth", socket.handshake.auth)
        socket.onEvent("message") { event in socket.emit("message-back", event.arguments) }
        socket.onEvent("message-with-ack") { event in event.ack?.send(event.arguments) }
        socket.onEvent("emit-with-ack") { event in
            socket.emit("emit-with-ack", arguments: event.args) { error, response in
                if error == nil { socket.emit("emit-with-ack", arguments: response) }
            }
        }
    }
}
