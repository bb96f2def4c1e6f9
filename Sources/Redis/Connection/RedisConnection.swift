import Transport

/// One open connection to Redis: writes commands, decodes replies and hands each to the oldest command in
/// flight. Loop-confined; reconnection and queueing live above it (`ConnectionSupervisor`).
///
/// Command timeouts: replies come in order, so a command that timed out still has a reply on its way. The
/// connection is kept and that reply is read and dropped when it arrives: a slow command (a big KEYS, a
/// `CLIENT PAUSE`) does not mean the connection is broken, and dropping it would fail every other command in
/// flight with `.connectionClosed` even though they may have run. Only when the oldest timed-out command is
/// still unanswered a whole further timeout later is the server taken for unresponsive and the connection
/// recycled, so a dead peer cannot make the queue of dropped replies grow without end.
final class RedisConnection: ClientStreamDelegate, @unchecked Sendable {
    // Invariant for @unchecked Sendable: used on `loop`'s thread only. The per-command properties skip
    // dynamic exclusivity checks (they cost more than the rest of a PUBLISH): completions and callbacks are
    // always called after the access that found them has ended.
    let stream: any ClientStream
    let loop: EventLoop
    @exclusivity(unchecked) private var decoder: RESPDecoder
    @exclusivity(unchecked) private var pending = PendingCommands()
    /// How many of the oldest pending commands already timed out or have no deadline.
    @exclusivity(unchecked) private var settledPrefix = 0
    private let commandTimeoutMillis: Int
    private var timeoutTimer: LoopTimer?
    private(set) var isClosed = false
    /// When bytes last arrived (monotonic nanoseconds), for the supervisor's health check.
    @exclusivity(unchecked) private(set) var lastReceivedNanos = coarseMonotonicNanos()
    /// True when no command waits for a reply.
    var isIdle: Bool { self.pending.isEmpty }
    /// True after `HELLO 3` was accepted.
    var isRESP3 = false
    /// In subscriber mode every value goes to `onUnsolicited`: pub/sub confirmations and messages are not
    /// replies to one command each.
    var subscriberMode = false
    /// Values that answer no command: RESP3 pushes, and everything in subscriber mode.
    var onUnsolicited: ((RESPValue) -> Void)?
    /// Called once when the connection closes, with the reason.
    var onClose: ((String) -> Void)?
    /// What commands still in flight fail with when the connection closes.
    var inFlightFailure = RedisClientError.connectionClosed

    init(stream: any ClientStream, commandTimeoutMillis: Int, limits: RESPDecoder.Limits) {
        self.stream = stream
        self.loop = stream.loop
        self.decoder = RESPDecoder(limits: limits)
        self.commandTimeoutMillis = commandTimeoutMillis
        stream.delegate = self
    }

    /// The deadline of a command sent now, 0 when commands have no timeout.
    func deadlineFromNow() -> UInt64 {
        self.commandTimeoutMillis > 0 ? coarseMonotonicNanos() &+ UInt64(self.commandTimeoutMillis) &* 1_000_000 : 0
    }

    /// Writes a command (`encode` appends it to the output) and waits for its reply.
    func send(deadline: UInt64, completion: RedisCompletion?, _ encode: (inout [UInt8]) -> Void) {
        guard !self.isClosed else {
            completion?(.failure(self.inFlightFailure))
            return
        }
        self.stream.withOutboundBuffer(encode)
        if deadline == 0 && self.settledPrefix == self.pending.count { self.settledPrefix += 1 }
        self.pending.append(PendingCommand(completion: completion, deadline: deadline))
        if deadline != 0 && self.timeoutTimer?.isScheduled != true { self.armTimer(at: deadline) }
    }

    /// Writes bytes that expect no reply of their own (pub/sub commands in subscriber mode).
    func write(_ encode: (inout [UInt8]) -> Void) {
        guard !self.isClosed else { return }
        self.stream.withOutboundBuffer(encode)
    }

    /// Sends what is queued, then closes without reporting the remaining replies.
    func closeGracefully(reason: String) {
        guard !self.isClosed else { return }
        self.stream.closeGracefully()
        self.close(reason: reason, closeStream: false)
    }

    /// Closes now: `onClose` runs, then commands in flight fail with `inFlightFailure`. In that order, a
    /// command sent from one of those failure callbacks finds the connection gone and waits for the next.
    func close(reason: String, closeStream: Bool = true) {
        guard !self.isClosed else { return }
        self.isClosed = true
        if let timer = self.timeoutTimer { self.loop.cancel(timer) }
        self.timeoutTimer = nil
        if closeStream { self.stream.close() }
        let inFlight = self.pending.removeAll()
        self.settledPrefix = 0
        let onClose = self.onClose
        self.onClose = nil
        self.onUnsolicited = nil
        onClose?(reason)
        let failure = self.inFlightFailure
        for command in inFlight { command.completion?(.failure(failure)) }
    }

    // MARK: Input

    func streamRead(_ stream: any ClientStream, _ buffer: inout ByteBuffer) {
        self.lastReceivedNanos = coarseMonotonicNanos()
        while !self.isClosed && !buffer.isEmpty {
            let value: RESPValue
            do {
                guard let decoded = try self.decoder.decode(&buffer) else { return }
                value = decoded
            } catch {
                self.inFlightFailure = .protocolError(error.description)
                self.close(reason: "protocol error: \(error.description)")
                return
            }
            self.deliver(value)
        }
    }

    private func deliver(_ value: RESPValue) {
        if self.subscriberMode {
            self.onUnsolicited?(value)
            return
        }
        if case .push = value {
            self.onUnsolicited?(value)
            return
        }
        guard let command = self.pending.popFirst() else {
            self.inFlightFailure = .protocolError("a reply no command waits for")
            self.close(reason: "protocol error: a reply no command waits for")
            return
        }
        if self.settledPrefix > 0 { self.settledPrefix -= 1 }
        guard let completion = command.completion else { return }
        if case .error(let error) = value {
            completion(.failure(error))
        } else {
            completion(.success(value))
        }
    }

    func streamClosed(_ stream: any ClientStream, error: Int32?) {
        self.close(reason: error.map { "connection lost (errno \($0))" } ?? "connection closed by the server")
    }

    // MARK: Timeouts

    private func armTimer(at deadline: UInt64) {
        let now = monotonicNanos()
        let millis = deadline > now ? Int((deadline - now + 999_999) / 1_000_000) : 0
        // A fired timer has given up its action: it is passed again on every (re)schedule.
        let action: () -> Void = { [weak self] in self?.checkTimeouts() }
        if let timer = self.timeoutTimer {
            self.loop.reschedule(timer, afterMillis: millis, action)
        } else {
            self.timeoutTimer = self.loop.schedule(afterMillis: millis, action)
        }
    }

    private func checkTimeouts() {
        guard !self.isClosed else { return }
        let now = monotonicNanos()
        let grace = UInt64(self.commandTimeoutMillis) &* 1_000_000
        // The oldest command timed out once already and still has no reply: the server does not answer.
        if self.settledPrefix > 0 {
            let oldest = self.pending[0]
            if oldest.deadline != 0 && now >= oldest.deadline &+ grace {
                self.close(reason: "no reply for \(2 * self.commandTimeoutMillis) ms")
                return
            }
        }
        var expired: [RedisCompletion] = []
        while self.settledPrefix < self.pending.count {
            let command = self.pending[self.settledPrefix]
            if command.deadline != 0 {
                guard command.deadline <= now else { break }
                if let completion = command.completion { expired.append(completion) }
                self.pending[self.settledPrefix].completion = nil
            }
            self.settledPrefix += 1
        }
        // Wake for the next command's deadline, or to check that the oldest timed-out one gets its reply.
        var next: UInt64 = 0
        if self.settledPrefix < self.pending.count { next = self.pending[self.settledPrefix].deadline }
        if self.settledPrefix > 0, self.pending[0].deadline != 0 {
            let stall = self.pending[0].deadline &+ grace
            next = next == 0 ? stall : min(next, stall)
        }
        if next != 0 { self.armTimer(at: next) }
        for completion in expired { completion(.failure(RedisClientError.commandTimeout)) }
    }
}
