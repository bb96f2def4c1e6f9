import EngineIO
import Foundation

/// The `echo` scenario: every connection keeps `--window` messages in flight (`echo`, or `echo-ack` with
/// `--ack`); each answer is timed and immediately replaced by a new message until the measured window
/// ends. Counted like `sioload`: answers that arrive while the window is open and before its end time.
final class EchoRun: LoadRun, @unchecked Sendable {
    // Invariant for @unchecked Sendable: as for `LoadRun`, loop thread only.

    private let event: String
    private let template: LoadWire.Template
    // Hot stored properties skip dynamic exclusivity checks; no access to them spans a re-entrant call.
    @exclusivity(unchecked) private var endAt: UInt64 = .max
    @exclusivity(unchecked) private var sent = 0
    /// Answers counted in the window.
    @exclusivity(unchecked) private var replies = 0
    @exclusivity(unchecked) private var counting = false
    @exclusivity(unchecked) private var latencies = LatencySamples()

    init(options: LoadOptions, loop: EventLoop) {
        self.event = options.ack ? "echo-ack" : "echo"
        let wire = LoadWire(payloadBytes: options.payload)
        self.template = wire.template(event: self.event)
        super.init(options: options, loop: loop, targetClients: options.conns, wire: wire)
    }

    override func startPhase() {
        // Answers are counted from the window's opening (a timer at the end of the warm-up) to `endAt`.
        self.endAt = monotonicNanos() + UInt64((self.options.warmup + self.options.duration) * 1e9)
        // Room for a million answers per second before the array has to grow inside the window.
        self.latencies.reserve(Int((self.options.duration + 1) * 1_000_000))
        for client in self.clients where client.state == .ready {
            for _ in 0..<self.options.window { self.sendEcho(client, at: self.relativeNow()) }
        }
        self.loop.schedule(afterMillis: Int((self.options.warmup * 1000).rounded())) { [self] in
            guard !self.isFinished else { return }
            self.window.open()
            self.counting = true
        }
        self.loop.schedule(afterMillis: Int(((self.options.warmup + self.options.duration) * 1000).rounded())) { [self] in
            self.finish(status: 0)
        }
    }

    /// Sends one message stamped `sentAt` (ns since the run started).
    @inline(__always)
    private func sendEcho(_ client: LoadClient, at sentAt: UInt64) {
        var ackID: Int?
        if self.options.ack {
            client.lastAckID &+= 1
            ackID = client.lastAckID
        }
        let template = self.template
        client.send(length: LoadWire.eventLength(template, ackID: ackID, numbers: sentAt)) { out in
            LoadWire.appendEvent(template, ackID: ackID, numbers: sentAt, to: &out)
        }
        self.sent += 1
    }

    override func client(_ client: LoadClient, answered answer: LoadWire.Answer) {
        switch answer {
        case .echo(let sentAt, let intact) where !self.options.ack:
            self.answered(client, sentAt: sentAt, intact: intact)
        case .ack(_, .some(let sentAt), let intact) where self.options.ack:
            self.answered(client, sentAt: sentAt, intact: intact)
        default:
            break
        }
    }

    @inline(__always)
    private func answered(_ client: LoadClient, sentAt: UInt64, intact: Bool) {
        if !intact { self.badReplies += 1 }
        let now = monotonicNanos()
        guard now < self.endAt, !self.isFinished else { return }
        let relative = now &- self.startedAt
        if self.counting {
            self.replies += 1
            self.latencies.add(relative &- sentAt)
        }
        self.sendEcho(client, at: relative)
    }

    override func report() -> [String] {
        let polling = self.options.transport == .polling
        let wall = self.window.wallSeconds
        var line = ResultLine()
        line.add("scenario", "echo" + (polling ? "-polling" : "") + (self.options.ack ? "-ack" : ""))
        line.add("label", self.options.label)
        line.add("loadgen", "sio-load")
        line.add("transport", self.options.transport.rawValue)
        line.add("event", self.event)
        line.add("conns", self.options.conns)
        line.add("window", self.options.window)
        line.add("payload", self.options.payload)
        line.add("duration_s", wall, decimals: 3)
        line.add("sent", self.sent)
        line.add("msgs", self.replies)
        line.add("msgs_per_s", wall > 0 ? Double(self.replies) / wall : -1, decimals: 1)
        line.add("lat_mean_ms", self.latencies.meanMillis, decimals: 3)
        line.add("lat_p50_ms", self.latencies.quantileMillis(0.5), decimals: 3)
        line.add("lat_p90_ms", self.latencies.quantileMillis(0.9), decimals: 3)
        line.add("lat_p99_ms", self.latencies.quantileMillis(0.99), decimals: 3)
        line.add("lat_p999_ms", self.latencies.quantileMillis(0.999), decimals: 3)
        line.add("lat_max_ms", self.latencies.maxMillis(), decimals: 3)
        if self.window.samplesServer && self.replies > 0 {
            line.add("server_cpu_us_per_msg", 1e6 * self.window.serverCPUSeconds / Double(self.replies), decimals: 2)
        }
        if self.replies > 0 {
            line.add("loadgen_cpu_us_per_msg", 1e6 * self.window.loadgenCPUSeconds / Double(self.replies), decimals: 2)
        }
        self.addCommonFields(to: &line)
        return [line.text]
    }
}
