import EngineIO
import SocketIO
import SocketIOTestSupport
import Transport

/// The server these tests run against: two loops, and any origin allowed. With the default placement the clients
/// of an idle server share the first loop; `spread: .evenHash` spreads them over both, for tests of what crosses
/// loops.
enum TestSocketIOServer {
    static func make(loops: Int = 2, spread: ConnectionSpread = .firstWaitingLoop,
                     engineOptions configureEngine: (inout EngineServerOptions) -> Void = { _ in },
                     options configure: (inout SocketIOServerOptions) -> Void = { _ in },
                     setup: (SocketIOServer) -> Void) throws -> InProcessSocketIOServer {
        try InProcessSocketIOServer(loops: loops, spread: spread, engineOptions: { options in
            options.cors = .any
            configureEngine(&options)
        }, options: configure, setup: setup)
    }
}

typealias TestRecorder = EventRecorder

extension EventRecorder {
    /// A recorder whose waits give up after 3 s unless told otherwise.
    convenience init() { self.init(defaultTimeout: 3) }
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
            socket.emit("emit-with-ack", arguments: event.args) { result in
                if case .success(let response) = result { socket.emit("emit-with-ack", arguments: response) }
            }
        }
    }
}
