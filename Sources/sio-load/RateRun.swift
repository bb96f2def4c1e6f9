import EngineIO
import Transport

/// The `rate` scenario, an open loop: message i is due at the phase's start + i/R and goes to connection
/// i mod C (or is skipped, and so lost, when that connection is gone), whatever the answers do. Its latency
/// counts from that intended time, so a server that stalls shows up as latency rather than as fewer
/// messages (no coordinated omission). The messages due inside the window are counted, whenever their
/// answers arrive; after the window the run waits up to 2 s for the missing ones. As in `sioload`.
final class RateRun: LoadRun, @unchecked Sendable {
    // Invariant for @unchecked Sendable: as for `LoadRun`, loop thread only.

    // Hot stored properties skip dynamic exclusivity checks; no access to them spans a re-entrant call.
    @exclusivity(unchecked) private var traffic: EchoTraffic
    /// Nanoseconds between two messages.
    private let interval: Double
    /// Monotonic ns: the phase's start, and the window's start and end (no message is due from then on).
    private var phaseStart: UInt64 = 0
    private var measureFrom: UInt64 = 0
    private var endAt: UInt64 = 0
    /// The window in message stamps (ns since the run started): answers are counted by intended send time.
    @exclusivity(unchecked) private var stampsFrom: UInt64 = .max
    @exclusivity(unchecked) private var stampsUntil: UInt64 = 0
    /// The next message due; skipped ones count too.
    private var nextMessage = 0
    /// Messages due inside the window, sent or skipped.
    @exclusivity(unchecked) private var sentInWindow = 0
    private var pacer: RatePacer?

    init(options: LoadOptions, loop: EventLoop) {
        let wire = LoadWire(payloadBytes: options.payload)
        self.traffic = EchoTraffic(options: options, wire: wire)
        self.interval = 1e9 / options.rate
        super.init(options: options, loop: loop, targetClients: options.conns, wire: wire)
    }

    override func startPhase() {
        self.phaseStart = monotonicNanos()
        self.measureFrom = self.phaseStart + UInt64(self.options.warmup * 1e9)
        self.endAt = self.measureFrom + UInt64(self.options.duration * 1e9)
        self.stampsFrom = self.measureFrom &- self.startedAt
        self.stampsUntil = self.endAt &- self.startedAt
        self.traffic.latencies.reserve(Int(min(self.options.rate * self.options.duration + 1024,
                                               Double(LatencySamples.capacityLimit))))
        let pacer = RatePacer(loop: self.loop, start: self.phaseStart, interval: self.interval, end: self.endAt) {
            [self] in self.sendDue()
        }
        self.pacer = pacer
        pacer.run()
    }

    /// The intended send time of message `index`, monotonic ns.
    @inline(__always)
    private func dueAt(_ index: Int) -> UInt64 {
        self.phaseStart + UInt64(Double(index) * self.interval)
    }

    /// Sends every message due by now; the pacer calls it at each intended time and at the window's end.
    private func sendDue() {
        self.pacer?.taken()
        guard !self.isFinished else { return }
        let now = monotonicNanos()
        if !self.window.isOpen && now >= self.measureFrom { self.window.open() }
        // Bounded, so that a generator far behind still reads answers between bursts.
        var burst = 0
        while burst < 100_000 {
            let intended = self.dueAt(self.nextMessage)
            guard intended <= now, intended < self.endAt else { break }
            if intended >= self.measureFrom { self.sentInWindow += 1 }
            let client = self.clients[self.nextMessage % self.clients.count]
            if client.state == .ready { self.traffic.send(on: client, stamp: intended &- self.startedAt) }
            self.nextMessage += 1
            burst += 1
        }
        if now >= self.endAt && !self.window.isClosed { self.endWindow() }
    }

    override func willFinish() {
        self.pacer?.stop()
    }

    /// The window is over: no more messages; wait up to 2 s for the answers still missing.
    private func endWindow() {
        self.window.open()
        self.window.close()
        if self.traffic.replies >= self.sentInWindow {
            self.finish(status: 0)
        } else {
            self.loop.schedule(afterMillis: 2000) { [self] in self.finish(status: 0) }
        }
    }

    override func client(_ client: LoadClient, answered answer: LoadWire.Answer) {
        guard let (sentAt, intact) = self.traffic.stamp(of: answer) else { return }
        if !intact { self.badReplies += 1 }
        guard !self.isFinished, sentAt >= self.stampsFrom, sentAt < self.stampsUntil else { return }
        self.traffic.count(latency: self.relativeNow() &- sentAt)
        if self.window.isClosed && self.traffic.replies >= self.sentInWindow { self.finish(status: 0) }
    }

    override func report() -> [String] {
        let sentInWindow = self.sentInWindow
        let lost = max(0, sentInWindow - self.traffic.replies)
        return [self.echoResultLine(scenario: "rate", traffic: &self.traffic, window: 0) { line in
            line.add("target_rate", self.options.rate, decimals: 0)
            line.add("sent_in_window", sentInWindow)
            line.add("lost", lost)
        }]
    }
}
