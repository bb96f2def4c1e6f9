/// The same argument forms as `Socket`: Swift values, `Encodable`, `Result` acknowledgements, `Duration`
/// timeouts.
extension BroadcastOperator {
    /// Sends `event` with Swift values (see `Socket.emit`) to every targeted socket. Returns false for a
    /// reserved event name or an argument that does not encode.
    @discardableResult
    public func emit<each Argument: Encodable>(_ event: String, _ args: repeat each Argument) -> Bool {
        guard let values = JSONValue.arguments(repeat each args) else { return false }
        return self.emit(event, outgoing: .values(values))
    }

    /// Sends `event` with one `Encodable` value (encoded with `JSONEncoder`).
    @discardableResult
    public func emit(_ event: String, encoding value: some Encodable) throws -> Bool {
        self.emit(event, outgoing: .values([try JSONValue(encoding: value)]))
    }

    /// Sends `event` asking every targeted socket for an answer: `ack` gets the answers (the first argument of
    /// each, in arrival order) once all arrived, or `.timeout` / `.disconnected` when the timeout passes or a
    /// socket leaves first. Without `timeout(_:)` it waits as long as it takes.
    @discardableResult
    public func emit<each Argument: Encodable>(_ event: String, _ args: repeat each Argument,
                                               ack: @escaping @Sendable (Result<[JSONValue], SocketAckError>) -> Void) -> Bool {
        guard let values = JSONValue.arguments(repeat each args) else { return false }
        return self.emitWithAck(event, outgoing: .values(values), completion: Self.adapt(ack))
    }

    /// Like `emit(_:_:ack:)` with an argument array.
    @discardableResult
    public func emit(_ event: String, arguments: [JSONValue],
                     ack: @escaping @Sendable (Result<[JSONValue], SocketAckError>) -> Void) -> Bool {
        self.emitWithAck(event, outgoing: .values(arguments), completion: Self.adapt(ack))
    }

    /// Sends `event` with Swift values and waits for every targeted socket's answer (the first argument of
    /// each); throws `SocketAckError` after `timeout` (default: the operator's `timeout(_:)`, else none).
    public func emitWithAck<each Argument: Encodable>(_ event: String, _ args: repeat each Argument,
                                                      timeout: Duration? = nil) async throws -> [JSONValue] {
        guard let values = JSONValue.arguments(repeat each args) else { throw SocketArgumentError() }
        let target = timeout.map { self.timeout($0) } ?? self
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[JSONValue], any Error>) in
            let accepted = target.emitWithAck(event, outgoing: .values(values)) { error, responses in
                if let error { continuation.resume(throwing: error) } else { continuation.resume(returning: responses) }
            }
            if !accepted { continuation.resume(throwing: SocketAckError.disconnected) }
        }
    }

    private static func adapt(_ ack: @escaping @Sendable (Result<[JSONValue], SocketAckError>) -> Void)
        -> @Sendable (SocketAckError?, [JSONValue]) -> Void {
        { error, responses in ack(error.map { .failure($0) } ?? .success(responses)) }
    }
}

/// The same argument forms on a socket with emit options (`socket.timeout(.seconds(5)).emit(…)`).
extension SocketEmitter {
    /// Waits at most `duration` for acknowledgements.
    public func timeout(_ duration: Duration) -> SocketEmitter {
        var copy = self
        copy.options.timeoutMillis = duration.socketMilliseconds
        return copy
    }

    /// Sends `event` with Swift values (see `Socket.emit`).
    @discardableResult
    public func emit<each Argument: Encodable>(_ event: String, _ args: repeat each Argument) -> Bool {
        guard let values = JSONValue.arguments(repeat each args) else { return false }
        return self.socket.emit(event, arguments: .values(values), options: self.options, ack: nil)
    }

    /// Sends `event` with one `Encodable` value (encoded with `JSONEncoder`).
    @discardableResult
    public func emit(_ event: String, encoding value: some Encodable) throws -> Bool {
        self.socket.emit(event, arguments: .values([try JSONValue(encoding: value)]), options: self.options, ack: nil)
    }

    /// Sends `event` with Swift values; `ack` gets the answer, or `.timeout` / `.disconnected`.
    @discardableResult
    public func emit<each Argument: Encodable>(_ event: String, _ args: repeat each Argument,
                                               ack: @escaping @Sendable (Result<[JSONValue], SocketAckError>) -> Void) -> Bool {
        guard let values = JSONValue.arguments(repeat each args) else { return false }
        return self.socket.emit(event, arguments: .values(values), options: self.options, ack: ack)
    }

    /// Sends `event` with `arguments`; `ack` gets the answer, or `.timeout` / `.disconnected`.
    @discardableResult
    public func emit(_ event: String, arguments: [JSONValue],
                     ack: @escaping @Sendable (Result<[JSONValue], SocketAckError>) -> Void) -> Bool {
        self.socket.emit(event, arguments: .values(arguments), options: self.options, ack: ack)
    }

    /// Sends `event` with Swift values and waits for the answer; throws `SocketAckError` after `timeout`
    /// (default: this emitter's).
    public func emitWithAck<each Argument: Encodable>(_ event: String, _ args: repeat each Argument,
                                                      timeout: Duration? = nil) async throws -> [JSONValue] {
        guard let values = JSONValue.arguments(repeat each args) else { throw SocketArgumentError() }
        let options = timeout.map { self.timeout($0).options } ?? self.options
        return try await self.socket.emitWithAck(event, arguments: .values(values), options: options)
    }
}

/// What targets every socket of a namespace at once (a `Namespace`, the server for `/`): the argument forms
/// of `BroadcastOperator` as shortcuts.
public protocol BroadcastShortcuts {
    /// Every socket targeted.
    var all: BroadcastOperator { get }
}

extension BroadcastShortcuts {
    /// Every socket, waiting at most `duration` for acknowledgements.
    public func timeout(_ duration: Duration) -> BroadcastOperator { self.all.timeout(duration) }

    /// Sends `event` with Swift values (see `Socket.emit`) to every socket.
    @discardableResult
    public func emit<each Argument: Encodable>(_ event: String, _ args: repeat each Argument) -> Bool {
        self.all.emit(event, repeat each args)
    }

    /// Sends `event` with one `Encodable` value to every socket.
    @discardableResult
    public func emit(_ event: String, encoding value: some Encodable) throws -> Bool {
        try self.all.emit(event, encoding: value)
    }

    /// Sends `event` to every socket and waits for their answers (see `BroadcastOperator.emitWithAck`).
    public func emitWithAck<each Argument: Encodable>(_ event: String, _ args: repeat each Argument,
                                                      timeout: Duration? = nil) async throws -> [JSONValue] {
        try await self.all.emitWithAck(event, repeat each args, timeout: timeout)
    }
}

extension Namespace: BroadcastShortcuts {}

/// The main namespace's shortcuts on the server.
extension SocketIOServer: BroadcastShortcuts {
    /// Every socket of `/`.
    public var all: BroadcastOperator { self.sockets.all }

    /// Sends `event` with `arguments` to every socket of `/`.
    @discardableResult
    public func emit(_ event: String, arguments: [JSONValue]) -> Bool { self.sockets.emit(event, arguments: arguments) }
}
