import Transport

/// The state behind a `RedisClient`, on its loop: the supervised connection and the queue of commands that
/// wait for it. Commands go straight to the connection when it is ready and nothing waits before them.
final class RedisClientCore: @unchecked Sendable {
    // Invariant for @unchecked Sendable: used on `loop`'s thread only (RedisClient hops there). `queue` skips
    // dynamic exclusivity checks (every command looks at it): no access to it spans a callback.
    let loop: EventLoop
    let configuration: RedisConfiguration
    private let supervisor: ConnectionSupervisor
    @exclusivity(unchecked) private var queue = CommandQueue()
    private var queueTimer: LoopTimer?
    private var isClosed = false

    init(configuration: RedisConfiguration, loop: EventLoop, observer: StateObserver) {
        self.loop = loop
        self.configuration = configuration
        self.supervisor = ConnectionSupervisor(configuration: configuration, loop: loop)
        self.supervisor.onState = { state in observer.notify(state) }
        self.supervisor.onReady = { [weak self] connection in self?.flushQueue(into: connection) }
        self.supervisor.onHandshakeError = { [weak self] error in self?.failQueued(error) }
    }

    func connect() {
        self.supervisor.start()
    }

    /// Sends a command (`encode` appends it), or queues it while there is no ready connection.
    func send(completion: RedisCompletion?, _ encode: (inout [UInt8]) -> Void) {
        if let connection = self.supervisor.connection, self.queue.isEmpty {
            guard connection.stream.pendingOutputBytes <= self.configuration.maxOutputBufferBytes else {
                completion?(.failure(RedisClientError.queueFull))
                return
            }
            connection.send(deadline: connection.deadlineFromNow(), completion: completion, encode)
            return
        }
        guard !self.isClosed else {
            completion?(.failure(RedisClientError.closed))
            return
        }
        guard self.queue.count < self.configuration.maxQueuedCommands else {
            completion?(.failure(RedisClientError.queueFull))
            return
        }
        var bytes: [UInt8] = []
        encode(&bytes)
        let timeout = self.configuration.commandTimeoutMillis
        let deadline = timeout > 0 ? monotonicNanos() &+ UInt64(timeout) &* 1_000_000 : 0
        self.queue.append(CommandQueue.Entry(bytes: bytes, completion: completion, deadline: deadline))
        if deadline != 0 && self.queueTimer?.isScheduled != true { self.armQueueTimer() }
    }

    func close() {
        guard !self.isClosed else { return }
        self.isClosed = true
        if let timer = self.queueTimer { self.loop.cancel(timer) }
        let connection = self.supervisor.close()
        self.failQueued(RedisClientError.closed)
        guard let connection else { return }
        // QUIT is answered after every command sent before it, so they all get their replies first.
        connection.inFlightFailure = .closed
        let timer = self.loop.schedule(afterMillis: max(1, self.configuration.connectTimeoutMillis)) {
            connection.close(reason: "closed")
        }
        connection.send(deadline: 0, completion: { [loop = self.loop] _ in
            loop.cancel(timer)
            connection.close(reason: "closed")
        }) { out in RESPEncoder.appendCommand(["QUIT"], into: &out) }
    }

    private func flushQueue(into connection: RedisConnection) {
        if let timer = self.queueTimer { self.loop.cancel(timer) }
        self.expireQueued()
        for entry in self.queue.removeAll() {
            connection.send(deadline: entry.deadline, completion: entry.completion) { out in out.append(contentsOf: entry.bytes) }
        }
    }

    private func failQueued(_ error: any Error) {
        for entry in self.queue.removeAll() { entry.completion?(.failure(error)) }
    }

    private func armQueueTimer() {
        guard let deadline = self.queue.firstDeadline else { return }
        let now = monotonicNanos()
        let millis = deadline > now ? Int((deadline - now + 999_999) / 1_000_000) : 0
        // A fired timer has given up its action: it is passed again on every (re)schedule.
        let action: () -> Void = { [weak self] in
            self?.expireQueued()
            self?.armQueueTimer()
        }
        if let timer = self.queueTimer {
            self.loop.reschedule(timer, afterMillis: millis, action)
        } else {
            self.queueTimer = self.loop.schedule(afterMillis: millis, action)
        }
    }

    private func expireQueued() {
        for entry in self.queue.removeExpired(now: monotonicNanos()) {
            entry.completion?(.failure(RedisClientError.commandTimeout))
        }
    }
}
