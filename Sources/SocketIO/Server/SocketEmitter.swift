import EngineIO

/// A socket with options for what it emits next (`socket.timeout(.seconds(5)).emit(...)`).
///
/// A value: the options do not stick to the socket, so concurrent callers cannot see each other's flags.
public struct SocketEmitter: Sendable {
    /// The socket emitting.
    public let socket: Socket
    /// The options applied.
    public var options: SocketEmitOptions

    /// Waits at most `millis` for acknowledgements.
    @available(*, deprecated, message: "use timeout(.milliseconds(n)) (a Duration, as the client takes)")
    public func timeout(_ millis: Int) -> SocketEmitter {
        var copy = self
        copy.options.timeoutMillis = millis
        return copy
    }

    /// Drops the packet when the transport is busy.
    public var volatile: SocketEmitter {
        var copy = self
        copy.options.volatile = true
        return copy
    }

    /// `compress(false)` sends the next packets uncompressed over permessage-deflate WebSockets.
    public func compress(_ compress: Bool) -> SocketEmitter {
        var copy = self
        copy.options.compress = compress
        return copy
    }

    /// Sends `event` with `args`. Returns false for a reserved event name.
    @discardableResult
    public func emit(_ event: String, _ args: JSONValue...) -> Bool {
        self.socket.emit(event, arguments: .values(args), options: self.options, ack: nil)
    }

    /// Sends `event` with `arguments`.
    @discardableResult
    public func emit(_ event: String, arguments: [JSONValue]) -> Bool {
        self.socket.emit(event, arguments: .values(arguments), options: self.options, ack: nil)
    }

    /// Sends `event` with received arguments, relaying their JSON text when possible.
    @discardableResult
    public func emit(_ event: String, _ arguments: SocketArguments) -> Bool {
        self.socket.emit(event, arguments: .forwarded(arguments), options: self.options, ack: nil)
    }

    /// Sends `event`; `ack` gets the answer, or `.timeout` / `.disconnected`.
    @discardableResult
    @available(*, deprecated, message: "use the Result form: emit(event, args) { result in ... }")
    public func emit(_ event: String, _ args: JSONValue...,
                     ack: @escaping @Sendable (_ error: SocketAckError?, _ response: [JSONValue]) -> Void) -> Bool {
        self.socket.emit(event, arguments: .values(args), options: self.options, ack: Socket.adapt(ack))
    }

    /// Sends `event` with `arguments`; `ack` gets the answer, or `.timeout` / `.disconnected`.
    @discardableResult
    @available(*, deprecated, message: "use the Result form: emit(event, args) { result in ... }")
    public func emit(_ event: String, arguments: [JSONValue],
                     ack: @escaping @Sendable (_ error: SocketAckError?, _ response: [JSONValue]) -> Void) -> Bool {
        self.socket.emit(event, arguments: .values(arguments), options: self.options, ack: Socket.adapt(ack))
    }

    /// Sends `event` and waits for the answer; throws `SocketAckError`.
    public func emitWithAck(_ event: String, _ args: JSONValue...) async throws -> [JSONValue] {
        try await self.socket.emitWithAck(event, arguments: .values(args), options: self.options)
    }

    /// Sends `event` with `arguments` and waits for the answer; throws `SocketAckError`.
    public func emitWithAck(_ event: String, arguments: [JSONValue]) async throws -> [JSONValue] {
        try await self.socket.emitWithAck(event, arguments: .values(arguments), options: self.options)
    }

    /// Sends `event` and decodes the first argument of the answer as `T`.
    public func emitWithAck<T: Decodable & Sendable>(_ event: String, _ args: JSONValue..., as type: T.Type) async throws -> T {
        let response = try await self.socket.emitWithAck(event, arguments: .values(args), options: self.options)
        return try (response.first ?? .null).decode(T.self)
    }
}

/// Ids of sockets: random, URL-safe, as long as Engine.IO session ids.
enum SocketID {
    static func generate() -> String { EngineSessionID.generate() }
}
