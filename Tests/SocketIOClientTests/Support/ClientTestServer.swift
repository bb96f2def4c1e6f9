import EngineIO
import SocketIO
import SocketIOTestSupport

/// The server the client tests run against: one loop, 10 MB bodies and ClientTestApp unless told otherwise; a
/// kernel-chosen port unless one is given, so a test can restart it on the same port.
enum ClientTestServer {
    static func make(port: Int = 0, loops: Int = 1,
                     engineOptions configureEngine: (inout EngineServerOptions) -> Void = { _ in },
                     setup: (SocketIOServer) -> Void = { ClientTestApp.install(on: $0) }) throws -> InProcessSocketIOServer {
        try InProcessSocketIOServer(port: port, loops: loops, engineOptions: { options in
            options.maxHttpBufferSize = 10_000_000
            configureEngine(&options)
        }, setup: setup)
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
            socket.timeout(.seconds(5)).emit("question", arguments: args) { result in
                switch result {
                case .failure(let error):
                    socket.emit("answer-error", .string(error.description))
                case .success(let response):
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

typealias Recorder = EventRecorder

extension EventRecorder {
    /// A recorder whose waits give up after 10 s unless told otherwise.
    convenience init() { self.init(defaultTimeout: 10) }
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
