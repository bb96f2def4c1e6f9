import EngineIO
import Transport

/// The `capacity` scenario: opens idle connections up to each of `--steps` in turn, `--pending` handshakes
/// at a time. At each step it waits `--settle` seconds, then reports the handshake rate (over the time
/// spent connecting, pauses left out) and the server's RSS per open connection above its RSS before the
/// first one. After the last step every open connection sends one message at once, to show that they
/// are all still served (`capacity-echo-all`). As in `sioload`.
final class CapacityRun: LoadRun, @unchecked Sendable {
    // Invariant for @unchecked Sendable: as for `LoadRun`, loop thread only.

    private var traffic: EchoTraffic
    private let rssBaseKB: Int
    /// The step being connected or settled; `steps.count` once all are done.
    private var step = 0
    private var settling = false
    /// Seconds spent connecting so far, and since when the current step has been.
    private var connectSeconds = 0.0
    private var connectingSince: UInt64
    private var readyBeforeStep = 0
    private var stepRate = -1.0
    /// How long each handshake took, from opening the client to its namespace being joined.
    private var handshakes = LatencySamples()
    /// Set when the closing echo was sent to every open connection.
    private var checkStartedAt: UInt64?
    private var lines: [String] = []

    private var steps: [Int] { self.options.steps }
    private var openNow: Int { self.ready - self.droppedAfterReady }

    init(options: LoadOptions, loop: EventLoop) {
        let wire = LoadWire(payloadBytes: options.payload)
        self.traffic = EchoTraffic(options: options, wire: wire)
        self.rssBaseKB = ProcessUsage.server(sid: options.serverSID, pid: options.serverPID).rssKB
        self.connectingSince = monotonicNanos()
        let last = options.steps.last ?? 0
        super.init(options: options, loop: loop, targetClients: last, wire: wire)
        self.openLimit = options.steps.first ?? 0
        self.handshakes.reserve(last)
    }

    override var needsEveryClient: Bool { false }
    override var startsWhenAllReady: Bool { false }

    override func didBecomeReady(_ client: LoadClient) {
        self.handshakes.add(monotonicNanos() &- client.openedAt)
        self.stepDoneIfConnected()
    }

    override func didFail(_ client: LoadClient) {
        if self.checkStartedAt != nil {
            self.checkDoneIfAnswered()
        } else {
            self.stepDoneIfConnected()
        }
    }

    /// Once every client of the step has connected or failed: settle, then report the step.
    private func stepDoneIfConnected() {
        guard !self.settling, self.checkStartedAt == nil, self.clients.count >= self.openLimit,
              self.ready + self.failed >= self.openLimit else { return }
        let seconds = Double(monotonicNanos() - self.connectingSince) / 1e9
        self.connectSeconds += seconds
        self.stepRate = seconds > 0 ? Double(self.ready - self.readyBeforeStep) / seconds : -1
        self.readyBeforeStep = self.ready
        self.settling = true
        self.log("\(self.openNow) connections open, settling")
        self.loop.schedule(afterMillis: Int((self.options.settle * 1000).rounded())) { [self] in self.settled() }
    }

    private func settled() {
        guard !self.isFinished else { return }
        let target = self.steps[self.step]
        self.lines.append(self.stepLine(target: target))
        self.step += 1
        self.settling = false
        self.connectingSince = monotonicNanos()
        if self.failed > target / 10 + 10 {
            self.log("too many failed connections (\(self.failed)), stopping")
            self.finish(status: 7)
        } else if self.step < self.steps.count {
            self.openLimit = self.steps[self.step]
            self.openMore()
        } else {
            self.checkAll()
        }
    }

    // MARK: The closing check

    /// One message on every open connection at once; done when all are answered or after 15 s.
    private func checkAll() {
        self.checkStartedAt = monotonicNanos()
        for client in self.clients where client.state == .ready {
            self.traffic.send(on: client, stamp: self.relativeNow())
        }
        self.loop.schedule(afterMillis: 15_000) { [self] in self.checkDone() }
        self.checkDoneIfAnswered()
    }

    override func client(_ client: LoadClient, answered answer: LoadWire.Answer) {
        guard self.checkStartedAt != nil, let (_, intact) = self.traffic.stamp(of: answer) else { return }
        if !intact { self.badReplies += 1 }
        self.traffic.replies += 1
        self.checkDoneIfAnswered()
    }

    private func checkDoneIfAnswered() {
        if self.traffic.replies >= self.openNow { self.checkDone() }
    }

    private func checkDone() {
        guard !self.isFinished, let startedAt = self.checkStartedAt else { return }
        let seconds = Double(monotonicNanos() - startedAt) / 1e9
        var line = ResultLine()
        line.add("scenario", "capacity-echo-all")
        line.add("label", self.options.label)
        line.add("loadgen", "sio-load")
        line.add("open", self.openNow)
        line.add("echo_ok", self.traffic.replies)
        line.add("seconds", seconds, decimals: 3)
        line.add("msgs_per_s", Double(self.traffic.replies) / (seconds + 1e-9), decimals: 1)
        line.add("bad_replies", self.badReplies)
        self.lines.append(line.text)
        self.finish(status: 0)
    }

    // MARK: Output

    /// The steps reported so far; at `--max-time`, the unfinished step too, as `sioload` prints them.
    override func results(status: Int32) -> [String] {
        if status == 4 && self.step < self.steps.count {
            if !self.settling { self.connectSeconds += Double(monotonicNanos() - self.connectingSince) / 1e9 }
            self.lines.append(self.stepLine(target: self.steps[self.step]))
        }
        return self.lines
    }

    private func stepLine(target: Int) -> String {
        let server = ProcessUsage.server(sid: self.options.serverSID, pid: self.options.serverPID)
        let open = self.openNow
        var line = ResultLine()
        line.add("scenario", "capacity")
        line.add("label", self.options.label)
        line.add("loadgen", "sio-load")
        line.add("transport", self.options.transport.rawValue)
        line.add("target", target)
        line.add("open", open)
        line.add("connect_s", self.connectSeconds, decimals: 3)
        line.add("handshakes_per_s", self.connectSeconds > 0 ? Double(self.ready) / self.connectSeconds : -1, decimals: 1)
        line.add("step_handshakes_per_s", self.stepRate, decimals: 1)
        line.add("rss_base_kb", self.rssBaseKB)
        line.add("rss_kb", server.rssKB)
        line.add("kb_per_conn", open > 0 ? Double(server.rssKB - self.rssBaseKB) / Double(open) : -1, decimals: 2)
        line.add("server_procs", server.processes)
        line.add("server_cpu_s", server.cpuSeconds, decimals: 2)
        line.add("handshake_p50_ms", self.handshakes.quantileMillis(0.5), decimals: 3)
        line.add("handshake_p99_ms", self.handshakes.quantileMillis(0.99), decimals: 3)
        line.add("loadgen_cpu_s", ProcessUsage.selfCPUSeconds(), decimals: 2)
        line.add("failed_conns", self.failed)
        line.add("dropped_after_ready", self.droppedAfterReady)
        line.add("protocol_errors", self.protocolErrors)
        return line.text
    }
}
