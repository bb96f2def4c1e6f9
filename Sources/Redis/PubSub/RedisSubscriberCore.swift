import Transport

/// The state behind a `RedisSubscriber`, on its loop: the channels and patterns wanted, and the supervised
/// connection they are subscribed on. After every (re)connect everything wanted is subscribed again.
final class RedisSubscriberCore: @unchecked Sendable {
    // Invariant for @unchecked Sendable: used on `loop`'s thread only (RedisSubscriber hops there).
    let loop: EventLoop
    private let supervisor: ConnectionSupervisor
    private let onMessage: @Sendable (RedisPubSubMessage) -> Void
    /// What the owner asked for, in the order asked (the order matters only for readable logs and tests).
    private var channels: [String] = []
    private var patterns: [String] = []
    private var isClosed = false

    init(configuration: RedisConfiguration, loop: EventLoop, observer: StateObserver,
         onMessage: @escaping @Sendable (RedisPubSubMessage) -> Void) {
        self.loop = loop
        self.onMessage = onMessage
        self.supervisor = ConnectionSupervisor(configuration: configuration, loop: loop)
        self.supervisor.onState = { state in observer.notify(state) }
        self.supervisor.onReady = { [weak self] connection in self?.resubscribe(connection) }
    }

    func connect() {
        self.supervisor.start()
    }

    func subscribe(_ names: [String], patterns isPattern: Bool) {
        guard !self.isClosed else { return }
        var added: [String] = []
        for name in names where !(isPattern ? self.patterns : self.channels).contains(name) && !added.contains(name) {
            added.append(name)
        }
        guard !added.isEmpty else { return }
        if isPattern { self.patterns += added } else { self.channels += added }
        if let connection = self.supervisor.connection {
            Self.write(isPattern ? "PSUBSCRIBE" : "SUBSCRIBE", added, on: connection)
        }
    }

    /// Removes `names`; an empty list removes every channel (or pattern), as Redis's own UNSUBSCRIBE does.
    func unsubscribe(_ names: [String], patterns isPattern: Bool) {
        guard !self.isClosed else { return }
        let removed: [String]
        if names.isEmpty {
            removed = isPattern ? self.patterns : self.channels
            if isPattern { self.patterns = [] } else { self.channels = [] }
        } else {
            removed = names.filter { (isPattern ? self.patterns : self.channels).contains($0) }
            if isPattern { self.patterns.removeAll { names.contains($0) } } else { self.channels.removeAll { names.contains($0) } }
        }
        guard !removed.isEmpty, let connection = self.supervisor.connection else { return }
        Self.write(isPattern ? "PUNSUBSCRIBE" : "UNSUBSCRIBE", removed, on: connection)
    }

    func close() {
        guard !self.isClosed else { return }
        self.isClosed = true
        guard let connection = self.supervisor.close() else { return }
        // Leave politely: the server forgets the subscriptions, answers QUIT and closes its side.
        Self.write("UNSUBSCRIBE", [], on: connection)
        Self.write("PUNSUBSCRIBE", [], on: connection)
        Self.write("QUIT", [], on: connection)
        connection.closeGracefully(reason: "closed")
    }

    private func resubscribe(_ connection: RedisConnection) {
        connection.subscriberMode = true
        connection.onUnsolicited = { [weak self] value in self?.received(value) }
        if !self.channels.isEmpty { Self.write("SUBSCRIBE", self.channels, on: connection) }
        if !self.patterns.isEmpty { Self.write("PSUBSCRIBE", self.patterns, on: connection) }
    }

    private func received(_ value: RESPValue) {
        if let message = RedisPubSubMessage.parse(value) { self.onMessage(message) }
    }

    private static func write(_ command: String, _ names: [String], on connection: RedisConnection) {
        connection.write { out in
            RESPEncoder.appendHeader(UInt8(ascii: "*"), 1 + names.count, into: &out)
            RESPEncoder.appendBulk(text: command, into: &out)
            for name in names { RESPEncoder.appendBulk(text: name, into: &out) }
        }
    }
}
