import EngineIO

/// The messages `echo`, `rate` and capacity's closing check send: `echo` (or `echo-ack` with `--ack`)
/// stamped with a time in ns since the run started, built from our template; the answers that bring the
/// stamp back; and the replies and round-trip times a scenario counted.
struct EchoTraffic {
    /// `echo` or `echo-ack`.
    let event: String
    let ack: Bool
    private let template: LoadWire.Template
    /// Messages sent.
    private(set) var sent = 0
    /// Answers the scenario counted (in its window).
    var replies = 0
    var latencies = LatencySamples()

    init(options: LoadOptions, wire: LoadWire) {
        self.ack = options.ack
        self.event = options.ack ? "echo-ack" : "echo"
        self.template = wire.template(event: self.event)
    }

    /// Sends one message stamped `stamp` on `client`.
    @inline(__always)
    mutating func send(on client: LoadClient, stamp: UInt64) {
        var ackID: Int?
        if self.ack {
            client.lastAckID &+= 1
            ackID = client.lastAckID
        }
        let template = self.template
        client.send(length: LoadWire.eventLength(template, ackID: ackID, numbers: stamp)) { out in
            LoadWire.appendEvent(template, ackID: ackID, numbers: stamp, to: &out)
        }
        self.sent += 1
    }

    /// The stamp an answer brought back and whether its payload was intact; nil for answers to other
    /// messages (an `echo` while `echo-ack` is in use, the answer to a `join`).
    @inline(__always)
    func stamp(of answer: LoadWire.Answer) -> (sentAt: UInt64, intact: Bool)? {
        switch answer {
        case .echo(let sentAt, let intact) where !self.ack: return (sentAt, intact)
        case .ack(_, .some(let sentAt), let intact) where self.ack: return (sentAt, intact)
        default: return nil
        }
    }

    /// Counts one answer and its round trip.
    @inline(__always)
    mutating func count(latency nanos: UInt64) {
        self.replies += 1
        self.latencies.add(nanos)
    }
}

extension LoadRun {
    /// The result line of `echo` and `rate` with `sioload`'s fields in its order; `scenarioFields` adds
    /// what comes between `duration_s` and `sent` (rate's target and losses).
    func echoResultLine(scenario: String, traffic: inout EchoTraffic, window: Int,
                        scenarioFields: (inout ResultLine) -> Void = { _ in }) -> String {
        let polling = self.options.transport == .polling
        let wall = self.window.wallSeconds
        let replies = traffic.replies
        var line = ResultLine()
        line.add("scenario", scenario + (polling ? "-polling" : "") + (traffic.ack ? "-ack" : ""))
        line.add("label", self.options.label)
        line.add("loadgen", "sio-load")
        line.add("transport", self.options.transport.rawValue)
        line.add("event", traffic.event)
        line.add("conns", self.options.conns)
        line.add("window", window)
        line.add("payload", self.options.payload)
        line.add("duration_s", wall, decimals: 3)
        scenarioFields(&line)
        line.add("sent", traffic.sent)
        line.add("msgs", replies)
        line.add("msgs_per_s", wall > 0 ? Double(replies) / wall : -1, decimals: 1)
        line.add("lat_mean_ms", traffic.latencies.meanMillis, decimals: 3)
        line.add("lat_p50_ms", traffic.latencies.quantileMillis(0.5), decimals: 3)
        line.add("lat_p90_ms", traffic.latencies.quantileMillis(0.9), decimals: 3)
        line.add("lat_p99_ms", traffic.latencies.quantileMillis(0.99), decimals: 3)
        line.add("lat_p999_ms", traffic.latencies.quantileMillis(0.999), decimals: 3)
        line.add("lat_max_ms", traffic.latencies.maxMillis(), decimals: 3)
        if self.window.samplesServer && replies > 0 {
            line.add("server_cpu_us_per_msg", 1e6 * self.window.serverCPUSeconds / Double(replies), decimals: 2)
        }
        if replies > 0 {
            line.add("loadgen_cpu_us_per_msg", 1e6 * self.window.loadgenCPUSeconds / Double(replies), decimals: 2)
        }
        self.addCommonFields(to: &line)
        return line.text
    }
}
