import Transport

/// Keeps one Redis connection open: connects, runs the handshake (HELLO 3 with AUTH and SETNAME, or AUTH
/// under RESP2; then SELECT), reports state changes, and after a failure or a drop tries again after a delay
/// that doubles from `reconnectMinDelayMillis` to `reconnectMaxDelayMillis`, with jitter so that many clients
/// do not come back at the same instant. Nothing here blocks: every step is a callback on `loop`.
/// Loop-confined; its owner (a client or a subscriber) gets the connection once it is ready.
final class ConnectionSupervisor: @unchecked Sendable {
    // Invariant for @unchecked Sendable: used on `loop`'s thread only.
    let configuration: RedisConfiguration
    let loop: EventLoop
    private let opener: RedisStreamOpener
    /// The connection, once its handshake succeeded; nil while connecting or waiting to retry. Read for every
    /// command, so without dynamic exclusivity checks: it is only ever replaced, never held across a call.
    @exclusivity(unchecked) private(set) var connection: RedisConnection?
    /// The connection whose handshake is running.
    private var handshaking: RedisConnection?
    /// Bumped per attempt so that callbacks of an abandoned attempt are ignored.
    private var attemptID = 0
    private var consecutiveFailures = 0
    private var started = false
    private(set) var isClosed = false
    private var connectTimer: LoopTimer?
    private var retryTimer: LoopTimer?
    private var healthTimer: LoopTimer?
    /// When the health check's unanswered PING was sent to a subscriber connection; 0 when none is out.
    private var pingSentNanos: UInt64 = 0

    /// The connection is ready for commands.
    var onReady: ((RedisConnection) -> Void)?
    /// The handshake was refused with a Redis error (WRONGPASS, NOAUTH, LOADING, ...).
    var onHandshakeError: ((RedisError) -> Void)?
    /// State changes, for the owner's `onStateChange`.
    var onState: ((RedisConnectionState) -> Void)?

    init(configuration: RedisConfiguration, loop: EventLoop) {
        self.configuration = configuration
        self.loop = loop
        self.opener = RedisStreamOpener(configuration: configuration)
    }

    /// Starts connecting; later calls do nothing.
    func start() {
        guard !self.started, !self.isClosed else { return }
        self.started = true
        self.beginAttempt()
    }

    /// Stops for good; returns the ready connection (if any) for the owner to close politely.
    func close() -> RedisConnection? {
        guard !self.isClosed else { return nil }
        self.isClosed = true
        self.attemptID += 1
        if let timer = self.connectTimer { self.loop.cancel(timer) }
        if let timer = self.retryTimer { self.loop.cancel(timer) }
        if let timer = self.healthTimer { self.loop.cancel(timer) }
        if let handshaking = self.handshaking {
            self.handshaking = nil
            handshaking.onClose = nil
            handshaking.inFlightFailure = .closed
            handshaking.close(reason: "closed")
        }
        let connection = self.connection
        self.connection = nil
        connection?.onClose = nil
        self.onState?(.closed)
        return connection
    }

    // MARK: Attempts

    private func beginAttempt() {
        guard !self.isClosed else { return }
        self.attemptID += 1
        let id = self.attemptID
        self.onState?(.connecting)
        let timeout = max(1, self.configuration.connectTimeoutMillis)
        self.connectTimer = self.loop.schedule(afterMillis: timeout) { [weak self] in
            self?.attemptFailed(id, reason: "connect timed out after \(timeout) ms")
        }
        self.opener.open(on: self.loop, timeoutMillis: timeout) { [weak self] result in
            guard let self, id == self.attemptID, !self.isClosed else {
                if case .success(let stream) = result { stream.close() }
                return
            }
            switch result {
            case .failure(let error):
                self.attemptFailed(id, reason: "\(error)")
            case .success(let stream):
                let connection = RedisConnection(
                    stream: stream, commandTimeoutMillis: self.configuration.commandTimeoutMillis,
                    limits: self.configuration.decoderLimits)
                connection.onClose = { [weak self] reason in self?.attemptFailed(id, reason: reason) }
                self.handshaking = connection
                self.handshake(connection, id)
            }
        }
    }

    /// Gives up on attempt `id` (if it is still the current one) and schedules the next.
    private func attemptFailed(_ id: Int, reason: String) {
        guard id == self.attemptID, !self.isClosed, self.connection == nil else { return }
        self.attemptID += 1
        if let timer = self.connectTimer { self.loop.cancel(timer) }
        self.connectTimer = nil
        if let handshaking = self.handshaking {
            self.handshaking = nil
            handshaking.onClose = nil
            handshaking.close(reason: reason)
        }
        self.onState?(.disconnected(reason: reason))
        self.scheduleRetry()
    }

    private func connectionLost(_ connection: RedisConnection, reason: String) {
        guard connection === self.connection, !self.isClosed else { return }
        self.connection = nil
        self.onState?(.disconnected(reason: reason))
        self.scheduleRetry()
    }

    private func scheduleRetry() {
        let delay = ReconnectBackoff.delayMillis(
            failures: self.consecutiveFailures, min: self.configuration.reconnectMinDelayMillis,
            max: self.configuration.reconnectMaxDelayMillis)
        self.consecutiveFailures += 1
        // A fired timer has given up its action: it is passed again on every (re)schedule.
        let action: () -> Void = { [weak self] in self?.beginAttempt() }
        if let timer = self.retryTimer {
            self.loop.reschedule(timer, afterMillis: delay, action)
        } else {
            self.retryTimer = self.loop.schedule(afterMillis: delay, action)
        }
    }

    private func ready(_ connection: RedisConnection, _ id: Int) {
        guard id == self.attemptID, !self.isClosed else { return }
        if let timer = self.connectTimer { self.loop.cancel(timer) }
        self.connectTimer = nil
        self.handshaking = nil
        self.consecutiveFailures = 0
        self.connection = connection
        connection.onClose = { [weak self, unowned connection] reason in self?.connectionLost(connection, reason: reason) }
        self.onState?(.connected)
        self.onReady?(connection)
        self.pingSentNanos = 0
        self.armHealthCheck()
    }

    // MARK: Health check

    private func armHealthCheck() {
        let interval = self.configuration.healthCheckIntervalMillis
        guard interval > 0, !self.isClosed else { return }
        let action: () -> Void = { [weak self] in self?.checkHealth() }
        if let timer = self.healthTimer {
            self.loop.reschedule(timer, afterMillis: interval, action)
        } else {
            self.healthTimer = self.loop.schedule(afterMillis: interval, action)
        }
    }

    /// Sends PING on a connection that has been quiet for a whole interval. A command connection's PING is an
    /// ordinary command: its timeout, and the recycling of a connection whose replies stopped, do the rest.
    /// A subscriber's PING is answered among the messages, so the check itself watches for any input.
    private func checkHealth() {
        guard let connection = self.connection, !connection.isClosed else { return }
        let now = coarseMonotonicNanos()
        let interval = UInt64(self.configuration.healthCheckIntervalMillis) &* 1_000_000
        if connection.subscriberMode {
            if self.pingSentNanos != 0 && connection.lastReceivedNanos < self.pingSentNanos {
                connection.close(reason: "no answer to PING for \(self.configuration.healthCheckIntervalMillis) ms")
                return
            }
            if now &- connection.lastReceivedNanos >= interval {
                self.pingSentNanos = now
                connection.write { out in RESPEncoder.appendCommand(["PING"], into: &out) }
            } else {
                self.pingSentNanos = 0
            }
        } else if connection.isIdle && now &- connection.lastReceivedNanos >= interval {
            connection.send(deadline: connection.deadlineFromNow(), completion: nil) { out in
                RESPEncoder.appendCommand(["PING"], into: &out)
            }
        }
        self.armHealthCheck()
    }

    // MARK: Handshake

    private func handshake(_ connection: RedisConnection, _ id: Int) {
        let configuration = self.configuration
        guard configuration.protocolVersion == .resp3IfAvailable else {
            self.authenticateRESP2(connection, id)
            return
        }
        var hello: [RedisArgument] = ["HELLO", "3"]
        if let password = configuration.password {
            hello += ["AUTH", RedisArgument(configuration.username ?? "default"), RedisArgument(password)]
        }
        if let name = configuration.clientName { hello += ["SETNAME", RedisArgument(name)] }
        self.handshakeStep(connection, id, hello) { [weak self] in
            connection.isRESP3 = true
            self?.selectDatabase(connection, id, nameAlreadySet: true)
        } fallback: { [weak self] error in
            // Servers before Redis 6 do not know HELLO; NOPROTO means RESP3 is turned off.
            guard error.code == "NOPROTO" || (error.code == "ERR" && error.message.lowercased().contains("unknown command")) else {
                return false
            }
            self?.authenticateRESP2(connection, id)
            return true
        }
    }

    private func authenticateRESP2(_ connection: RedisConnection, _ id: Int) {
        guard let password = self.configuration.password else {
            self.selectDatabase(connection, id, nameAlreadySet: false)
            return
        }
        var auth: [RedisArgument] = ["AUTH"]
        if let username = self.configuration.username { auth.append(RedisArgument(username)) }
        auth.append(RedisArgument(password))
        self.handshakeStep(connection, id, auth) { [weak self] in
            self?.selectDatabase(connection, id, nameAlreadySet: false)
        }
    }

    private func selectDatabase(_ connection: RedisConnection, _ id: Int, nameAlreadySet: Bool) {
        var commands: [[RedisArgument]] = []
        if self.configuration.database != 0 { commands.append(["SELECT", RedisArgument(self.configuration.database)]) }
        if !nameAlreadySet, let name = self.configuration.clientName { commands.append(["CLIENT", "SETNAME", RedisArgument(name)]) }
        guard !commands.isEmpty else {
            self.ready(connection, id)
            return
        }
        // Pipelined: the last reply comes after the others, and any error ends the attempt first.
        for (index, command) in commands.enumerated() {
            let isLast = index == commands.count - 1
            self.handshakeStep(connection, id, command) { [weak self] in
                if isLast { self?.ready(connection, id) }
            }
        }
    }

    /// Sends one handshake command; an error reply ends the attempt unless `fallback` handles it.
    private func handshakeStep(
        _ connection: RedisConnection, _ id: Int, _ command: [RedisArgument],
        onSuccess: @escaping () -> Void, fallback: ((RedisError) -> Bool)? = nil
    ) {
        let box = HandshakeCallbacks(onSuccess: onSuccess, fallback: fallback)
        connection.send(deadline: 0, completion: { [weak self] result in
            guard let self, id == self.attemptID else { return }
            switch result {
            case .success:
                box.onSuccess()
            case .failure(let error as RedisError):
                if box.fallback?(error) == true { return }
                self.attemptFailed(id, reason: "handshake refused: \(error.message)")
                self.onHandshakeError?(error)
            case .failure(let error):
                self.attemptFailed(id, reason: "handshake failed: \(error)")
            }
        }) { out in RESPEncoder.appendCommand(command, into: &out) }
    }
}

/// The loop-confined closures of one handshake step, carried through a `@Sendable` completion.
private final class HandshakeCallbacks: @unchecked Sendable {
    // Invariant for @unchecked Sendable: created and called on the supervisor's loop only.
    let onSuccess: () -> Void
    let fallback: ((RedisError) -> Bool)?

    init(onSuccess: @escaping () -> Void, fallback: ((RedisError) -> Bool)?) {
        self.onSuccess = onSuccess
        self.fallback = fallback
    }
}
