import Foundation

/// The acknowledgement a client asked for with an event: call it once with the answer.
///
/// It may be called from any thread (for example after `await`ing something in a `Task`); the answer is
/// sent from the socket's loop. Calls after the first are ignored, as in Node.
public final class SocketAck: @unchecked Sendable {
    // Invariant for @unchecked Sendable: `sent` is read and written on `socket.loop` only; calls from other
    // threads hop there first. `socket` and `id` are immutable.
    private let socket: Socket
    /// The acknowledgement id the client chose.
    public let id: Int
    private var sent = false

    init(socket: Socket, id: Int) {
        self.socket = socket
        self.id = id
    }

    /// Answers with these arguments.
    public func callAsFunction(_ args: JSONValue...) {
        self.send(.values(args))
    }

    /// Answers with these arguments.
    public func send(arguments: [JSONValue]) {
        self.send(.values(arguments))
    }

    /// Answers with received arguments, relaying their JSON text unchanged when possible.
    public func send(_ arguments: SocketArguments) {
        self.send(.forwarded(arguments))
    }

    /// Answers with one `Encodable` value (encoded with `JSONEncoder`).
    public func send(encoding value: some Encodable) throws {
        self.send(.values([try JSONValue(encoding: value)]))
    }

    private func send(_ arguments: OutgoingArguments) {
        if self.socket.loop.inEventLoop {
            self.sendOnLoop(arguments)
        } else {
            self.socket.loop.execute { self.sendOnLoop(arguments) }
        }
    }

    private func sendOnLoop(_ arguments: OutgoingArguments) {
        guard !self.sent else { return }
        self.sent = true
        self.socket.writeAck(id: self.id, arguments: arguments)
    }
}

/// Options of one emission from a socket (`socket.timeout(ms)`, `.volatile`, `.compress(_:)`).
public struct SocketEmitOptions: Sendable, Hashable {
    /// Drop the packet when the transport cannot take it right now.
    public var volatile = false
    /// False sends the packet uncompressed over a WebSocket that negotiated permessage-deflate; true lets
    /// the server's threshold decide (`EngineServerOptions.perMessageDeflateThreshold`).
    public var compress = true
    /// Milliseconds to wait for an acknowledgement before failing with `SocketAckError.timeout`.
    public var timeoutMillis: Int?

    /// Options; the defaults send reliably, compressed as the server decides, without a timeout.
    public init(volatile: Bool = false, compress: Bool = true, timeoutMillis: Int? = nil) {
        self.volatile = volatile
        self.compress = compress
        self.timeoutMillis = timeoutMillis
    }
}

/// A pending acknowledgement of something this server emitted.
typealias AckCallback = @Sendable (Result<[JSONValue], SocketAckError>) -> Void
