/// A per-socket middleware (Node's `socket.use`): sees each incoming event before its handlers and calls
/// `next()` to pass it on or `next(error)` to drop it, which emits the socket's `error` event with `error`.
/// It runs on the socket's loop; `next` may be called later and from any thread.
public typealias SocketMiddleware = @Sendable (_ packet: SocketEvent, _ next: SocketMiddlewareNext) -> Void

/// What a per-socket middleware calls when it has decided: `next()` passes the packet on, `next(error)`
/// stops it.
public struct SocketMiddlewareNext: Sendable {
    private let body: @Sendable ((any Error)?) -> Void

    init(_ body: @escaping @Sendable ((any Error)?) -> Void) {
        self.body = body
    }

    /// Passes the packet to the next middleware (then to the event's handlers), or stops it with `error`.
    public func callAsFunction(_ error: (any Error)? = nil) {
        self.body(error)
    }
}

/// The socket's `error` event: a middleware refused a packet, or the connection sent one that could not be
/// decoded (Node's `socket.on("error")`).
public enum SocketErrorEvent: Sendable, Hashable {
    /// Something went wrong with a packet of this socket.
    case error
}

/// The error the socket's `error` event carries when its connection sent a packet that could not be decoded.
public struct SocketPacketError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong.
    public let message: String

    public var description: String { self.message }
}
