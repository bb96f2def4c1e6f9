/// `emit`, acknowledgements and `on` with Swift values: `socket.emit("hello", ["from": socket.id])`,
/// `socket.emit("file", data)`, `socket.on("save") { args, ack async in … }`.
extension Socket {
    /// Sends `event` with Swift values: strings, numbers, booleans, `Data` (binary), arrays and `[String: …]`
    /// dictionaries of them, `JSONValue`, any `Encodable`. Returns false for a reserved event name or an
    /// argument that does not encode (nothing is sent then).
    @discardableResult
    public func emit<each Argument: Encodable>(_ event: String, _ args: repeat each Argument) -> Bool {
        guard let values = JSONValue.arguments(repeat each args) else { return false }
        return self.emit(event, arguments: .values(values), options: SocketEmitOptions(), ack: nil)
    }

    /// Sends `event` with Swift values; `ack` gets the client's answer, or `.disconnected` if it leaves first.
    @discardableResult
    public func emit<each Argument: Encodable>(_ event: String, _ args: repeat each Argument,
                                               ack: @escaping @Sendable (Result<[JSONValue], SocketAckError>) -> Void) -> Bool {
        guard let values = JSONValue.arguments(repeat each args) else { return false }
        return self.emit(event, arguments: .values(values), options: SocketEmitOptions(), ack: ack)
    }

    /// Sends `event` with `arguments`; `ack` gets the client's answer or the error.
    @discardableResult
    public func emit(_ event: String, arguments: [JSONValue],
                     ack: @escaping @Sendable (Result<[JSONValue], SocketAckError>) -> Void) -> Bool {
        self.emit(event, arguments: .values(arguments), options: SocketEmitOptions(), ack: ack)
    }

    /// Sends `event` with Swift values and waits for the client's answer; throws `SocketAckError.timeout`
    /// after `timeout` (nil: waits until the client answers or leaves), `.disconnected`, or
    /// `SocketArgumentError` when an argument does not encode.
    public func emitWithAck<each Argument: Encodable>(_ event: String, _ args: repeat each Argument,
                                                      timeout: Duration? = nil) async throws -> [JSONValue] {
        guard let values = JSONValue.arguments(repeat each args) else { throw SocketArgumentError() }
        return try await self.emitWithAck(event, arguments: .values(values),
                                          options: SocketEmitOptions(timeoutMillis: timeout?.socketMilliseconds))
    }

    /// Options for the next emission: wait at most `duration` for its acknowledgement.
    public func timeout(_ duration: Duration) -> SocketEmitter {
        SocketEmitter(socket: self, options: SocketEmitOptions(timeoutMillis: duration.socketMilliseconds))
    }

    /// Calls the asynchronous `handler` for each `event`, in a task of its own: handlers of one socket may
    /// then overlap and finish out of order. Synchronous handlers (the other `on`) run on the socket's loop,
    /// in order, without a task: prefer them for anything that does not `await`.
    @discardableResult
    public func on(_ event: String, _ handler: @escaping @Sendable (_ args: [JSONValue], _ ack: SocketAck?) async -> Void)
        -> SocketListenerID {
        self.addHandler(event) { args, ack in
            Task { await handler(args, ack) }
        }
    }
}

extension SocketAck {
    /// Answers with Swift values (see `Socket.emit`); values that do not encode answer nothing.
    public func callAsFunction<each Argument: Encodable>(_ args: repeat each Argument) {
        guard let values = JSONValue.arguments(repeat each args) else { return }
        self.send(arguments: values)
    }
}

extension Duration {
    /// Whole milliseconds, rounded up so that a short timeout never becomes 0, and capped to `Int`.
    var socketMilliseconds: Int {
        let (seconds, attoseconds) = self.components
        guard seconds >= 0 else { return 0 }
        let millis = seconds.multipliedReportingOverflow(by: 1000)
        if millis.overflow { return Int.max }
        return Int(millis.partialValue + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
    }
}
