import EngineIO
import Foundation
import SocketIO
import Synchronization

/// An in-process Socket.IO server on 127.0.0.1 (a kernel-chosen port unless one is given, so a test can
/// restart it on the same port).
final class ClientTestServer: Sendable {
    let engine: EngineServer
    let io: SocketIOServer
    let http: HTTPServer
    let group: EventLoopGroup

    init(port: Int = 0, loops: Int = 1,
         engineOptions configureEngine: (inout EngineServerOptions) -> Void = { _ in },
         setup: (SocketIOServer) -> Void = { ClientTestApp.install(on: $0) }) throws {
        var engineOptions = EngineServerOptions.socketIO
        engineOptions.pingInterval = 25_000
        engineOptions.pingTimeout = 20_000
        engineOptions.maxHttpBufferSize = 10_000_000
        configureEngine(&engineOptions)
        let engine = EngineServer(options: engineOptions)
        let io = SocketIOServer(engine: engine, options: SocketIOServerOptions())
        setup(io)
        let group = try EventLoopGroup(loopCount: loops)
        let chain = HTTPHandlerChain([(claims: { @Sendable head in engine.claims(head) }, handler: engine)])
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: port)
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
    var url: String { "http://127.0.0.1:\(self.port)" }

    func shutdown() {
        self.http.stopAccepting()
        self.io.close()
        let deadline = Date(timeIntervalSinceNow: 2)
        while self.engine.sessionCount > 0 && Date() < deadline { usleep(5_000) }
        self.group.shutdown(timeoutSeconds: 2)
    }
}

/// What the test server does: echoes, acks, asks the client, refuses `/restricted` without a token.
enum ClientTestApp {
    static func install(on io: SocketIOServer) {
        io.on(.connection) { self.handlers($0) }
        io.of("/custom").on(.connection) { self.handlers($0) }
        let restricted = io.of("/restricted")
        restricted.use { socket, next in
            if socket.handshake.auth["token"]?.stringValue == "secret" {
                next(nil)
            } else {
                next(SocketConnectError("not authorized", data: ["reason": "bad token"]))
            }
        }
        restricted.on(.connection) { self.handlers($0) }
    }

    static func handlers(_ socket: Socket) {
        socket.emit("welcome", .string(socket.nsp.name), socket.handshake.auth)
        socket.on("echo") { args, _ in socket.emit("echo", arguments: args) }
        socket.on("echo-ack") { args, ack in ack?.send(arguments: args) }
        socket.on("ignore") { _, _ in }
        socket.on("ask-client") { args, _ in
            socket.timeout(5000).emit("question", arguments: args) { error, response in
                if let error {
                    socket.emit("answer-error", .string(error.description))
                } else {
                    socket.emit("answer", arguments: response)
                }
            }
        }
        socket.on("server-disconnect") { _, _ in socket.disconnect() }
        socket.on("close-transport") { _, _ in socket.disconnect(close: true) }
        socket.on("burst") { args, _ in
            let count = args.first?.intValue ?? 0
            for i in 0..<count { socket.emit("burst", .int(Int64(i))) }
        }
        socket.on("count") { args, ack in ack?(.int(Int64(args.first?.intValue ?? -1))) }
        socket.on("transport") { _, ack in ack?(.string(socket.transport.rawValue)) }
    }
}

/// Things handlers saw, for tests to wait on (bounded waits only).
final class Recorder: Sendable {
    private let entries = Mutex<[String]>([])

    func record(_ entry: String) {
        self.entries.withLock { $0.append(entry) }
    }

    var all: [String] { self.entries.withLock { $0 } }

    func count(_ entry: String) -> Int { self.all.filter { $0 == entry }.count }

    @discardableResult
    func wait(timeout: TimeInterval = 10, until condition: ([String]) -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while true {
            if condition(self.all) { return true }
            if Date() >= deadline { return false }
            usleep(2_000)
        }
    }

    @discardableResult
    func wait(for entry: String, timeout: TimeInterval = 10) -> Bool {
        self.wait(timeout: timeout) { $0.contains(entry) }
    }
}

/// The next element of `stream`, or nil after `timeout` (tests never wait unbounded).
func next<T: Sendable>(_ stream: AsyncStream<T>, timeout: Duration = .seconds(10)) async -> T? {
    await withTaskGroup(of: T?.self) { group in
        group.addTask {
            var iterator = stream.makeAsyncIterator()
            return await iterator.next()
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
}
