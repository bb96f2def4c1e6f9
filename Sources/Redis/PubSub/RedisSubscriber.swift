import Transport

/// A subscriber connection: SUBSCRIBE / PSUBSCRIBE and their UNSUBSCRIBEs, message and pmessage
/// delivery; subscribes again to everything after a reconnect. Callbacks run on `loop`. Safe to call from
/// any thread.
///
/// Messages published while the connection is down are lost (Redis pub/sub keeps nothing for absent
/// subscribers).
public final class RedisSubscriber: Sendable {
    /// The loop the connection and every callback run on.
    public let loop: EventLoop
    /// The settings this subscriber was made with.
    public let configuration: RedisConfiguration
    private let core: RedisSubscriberCore
    private let observer = StateObserver()

    /// A subscriber for `configuration` on `loop`; `onMessage` gets every message and pmessage, on `loop`.
    public init(configuration: RedisConfiguration, loop: EventLoop,
                onMessage: @escaping @Sendable (RedisPubSubMessage) -> Void) {
        self.loop = loop
        self.configuration = configuration
        self.core = RedisSubscriberCore(configuration: configuration, loop: loop, observer: self.observer, onMessage: onMessage)
    }

    /// A subscriber dropped without `close()` is closed on its loop, so its socket does not outlive it.
    deinit {
        let core = self.core
        self.loop.execute { core.close() }
    }

    /// Connection state changes; set it before `connect()`. Runs on `loop`.
    public var onStateChange: (@Sendable (RedisConnectionState) -> Void)? {
        get { self.observer.current }
        set { self.observer.current = newValue }
    }

    /// Starts connecting (idempotent).
    public func connect() {
        let core = self.core
        self.loop.executeOrRun { core.connect() }
    }

    /// Subscribes to `channels` (now if connected, else once connected), and again after every reconnect.
    public func subscribe(_ channels: [String]) {
        let core = self.core
        self.loop.executeOrRun { core.subscribe(channels, patterns: false) }
    }

    /// Subscribes to glob-style `patterns` (`socket.io#/#*`).
    public func psubscribe(_ patterns: [String]) {
        let core = self.core
        self.loop.executeOrRun { core.subscribe(patterns, patterns: true) }
    }

    /// Unsubscribes from `channels`; an empty list unsubscribes from every channel.
    public func unsubscribe(_ channels: [String]) {
        let core = self.core
        self.loop.executeOrRun { core.unsubscribe(channels, patterns: false) }
    }

    /// Unsubscribes from `patterns`; an empty list unsubscribes from every pattern.
    public func punsubscribe(_ patterns: [String]) {
        let core = self.core
        self.loop.executeOrRun { core.unsubscribe(patterns, patterns: true) }
    }

    /// Unsubscribes from everything, sends QUIT and closes. No reconnect follows.
    public func close() {
        let core = self.core
        self.loop.executeOrRun { core.close() }
    }
}
