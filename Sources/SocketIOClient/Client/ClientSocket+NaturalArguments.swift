import SocketIO

/// `emit`, acknowledgements and `on` with Swift values, in the same shapes as the server's `Socket`:
/// `socket.emit("chat", ["text": text])`, `try await socket.emitWithAck("sum", 1, 2, timeout: .seconds(5))`.
extension ClientSocket {
    /// Sends `event` with Swift values: strings, numbers, booleans, `Data` (binary), arrays and `[String: …]`
    /// dictionaries of them, `JSONValue`, any `Encodable`. Returns false (nothing sent) when an argument does
    /// not encode.
    @discardableResult
    public func emit<each Argument: Encodable>(_ event: String, _ args: repeat each Argument) -> Bool {
        guard let values = JSONValue.convertingArguments(repeat each args) else { return false }
        self.emit(event, arguments: values)
        return true
    }

    /// Sends `event` with Swift values; `ack` gets the server's answer, or an error on timeout (when
    /// `timeout` is given) or disconnection.
    @discardableResult
    public func emit<each Argument: Encodable>(_ event: String, _ args: repeat each Argument, timeout: Duration? = nil,
                                               ack: @escaping @Sendable (Result<[JSONValue], ClientAckError>) -> Void) -> Bool {
        guard let values = JSONValue.convertingArguments(repeat each args) else { return false }
        self.emit(event, arguments: values, timeout: timeout, ack: ack)
        return true
    }

    /// Sends `event` with Swift values and waits for the server's answer; throws `ClientAckError` on timeout
    /// (default: `options.ackTimeout`), disconnection or cancellation, `SocketArgumentError` when an argument
    /// does not encode.
    public func emitWithAck<each Argument: Encodable>(_ event: String, _ args: repeat each Argument,
                                                      timeout: Duration? = nil) async throws -> [JSONValue] {
        guard let values = JSONValue.convertingArguments(repeat each args) else { throw SocketArgumentError() }
        return try await self.emitWithAck(event, arguments: values, timeout: timeout)
    }

    /// Calls the asynchronous `handler` for each `event`, in a task of its own (handlers may then overlap);
    /// synchronous handlers run in order on the client's loop.
    @discardableResult
    public func on(_ event: String, _ handler: @escaping @Sendable (_ args: [JSONValue], _ ack: ClientAck?) async -> Void)
        -> ClientHandlerID {
        let synchronous: @Sendable ([JSONValue], ClientAck?) -> Void = { args, ack in
            Task { await handler(args, ack) }
        }
        return self.on(event, synchronous)
    }
}

extension ClientSocket.VolatileEmitter {
    /// Sends `event` with Swift values if it can leave now; drops it otherwise.
    public func emit<each Argument: Encodable>(_ event: String, _ args: repeat each Argument) {
        guard let values = JSONValue.convertingArguments(repeat each args) else { return }
        self.emit(event, arguments: values)
    }
}

extension ClientAck {
    /// Answers with Swift values (see `ClientSocket.emit`); values that do not encode answer nothing.
    public func callAsFunction<each Argument: Encodable>(_ args: repeat each Argument) {
        guard let values = JSONValue.convertingArguments(repeat each args) else { return }
        self.send(arguments: values)
    }
}
