import Transport

/// A command connection: pipelined, replies matched in order, reconnects by itself.
/// All callbacks run on `loop`. Safe to call from any thread.
///
/// While there is no connection (before the first connect, during a reconnect) commands wait in a queue of
/// at most `maxQueuedCommands`, each for at most its command timeout. Commands in flight when the connection
/// drops fail with `.connectionClosed` and are never sent again: they may have run.
public final class RedisClient: Sendable {
    /// The loop the connection and every callback run on.
    public let loop: EventLoop
    /// The settings this client was made with.
    public let configuration: RedisConfiguration
    private let core: RedisClientCore
    private let observer = StateObserver()

    /// A client for `configuration` on `loop`; it connects on `connect()`.
    public init(configuration: RedisConfiguration, loop: EventLoop) {
        self.loop = loop
        self.configuration = configuration
        self.core = RedisClientCore(configuration: configuration, loop: loop, observer: self.observer)
    }

    /// A client dropped without `close()` is closed on its loop, so its socket does not outlive it.
    deinit {
        let core = self.core
        self.loop.execute { core.close() }
    }

    /// Connection state changes (connecting, connected, disconnected with the reason, closed); set it before
    /// `connect()`. Runs on `loop`.
    public var onStateChange: (@Sendable (RedisConnectionState) -> Void)? {
        get { self.observer.current }
        set { self.observer.current = newValue }
    }

    /// Starts connecting (idempotent).
    public func connect() {
        let core = self.core
        self.loop.executeOrRun { core.connect() }
    }

    /// Sends a command; `completion` (nil = fire and forget) gets the reply, a `RedisError` for an error
    /// reply, or a `RedisClientError`.
    public func send(_ arguments: [RedisArgument], completion: RedisCompletion?) {
        guard !arguments.isEmpty else {
            // Redis answers an empty command with nothing at all, which would leave every later reply off by one.
            self.loop.executeOrRun { completion?(.failure(RedisClientError.protocolError("a command needs at least one argument"))) }
            return
        }
        if self.loop.inEventLoop {
            self.core.send(completion: completion) { out in RESPEncoder.appendCommand(arguments, into: &out) }
            return
        }
        let core = self.core
        self.loop.execute {
            core.send(completion: completion) { out in RESPEncoder.appendCommand(arguments, into: &out) }
        }
    }

    /// Sends a command and waits for its reply; error replies are thrown as `RedisError`.
    public func send(_ arguments: [RedisArgument]) async throws -> RESPValue {
        try await withCheckedThrowingContinuation { continuation in
            self.send(arguments) { result in continuation.resume(with: result) }
        }
    }

    /// `PUBLISH channel payload`, fire and forget: encoded straight into the connection's output.
    public func publish(_ channel: String, _ payload: [UInt8]) {
        self.publish(channel, payload, completion: nil)
    }

    /// `PUBLISH channel payload` with the number of subscribers that received it.
    public func publish(_ channel: String, _ payload: [UInt8], completion: RedisCompletion?) {
        if self.loop.inEventLoop {
            self.core.send(completion: completion) { out in RESPEncoder.appendPublish(channel: channel, payload: payload, into: &out) }
            return
        }
        let core = self.core
        self.loop.execute {
            core.send(completion: completion) { out in RESPEncoder.appendPublish(channel: channel, payload: payload, into: &out) }
        }
    }

    /// Sends QUIT after what is queued, then closes; queued commands fail with `.closed`. No reconnect follows.
    public func close() {
        let core = self.core
        self.loop.executeOrRun { core.close() }
    }
}
