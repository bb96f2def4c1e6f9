import EngineIO
import SocketIO
import Transport

/// The `broadcast` scenario: `--clients` clients join room `bench` (event `join`, acknowledged), then a
/// control client outside the room emits `broadcast` to it, keeping `--bwindow` broadcasts in flight: each
/// one that reached every member is replaced by the next, until `--broadcasts` were measured or
/// `--duration` seconds passed. The first `--bwarm` broadcasts are a warm-up; the window opens when they
/// are all delivered and closes when the last measured one is. As in `sioload`.
///
/// With `--brate R` the broadcasts go out on a schedule instead (R per second, paced like `rate`), whatever
/// was delivered, and each delivery's latency counts from its broadcast's intended send time. With
/// `--ports` the members sit on several servers (a cluster) while the control client stays on `--port`.
final class BroadcastRun: LoadRun, @unchecked Sendable {
    // Invariant for @unchecked Sendable: as for `LoadRun`, loop thread only.

    private let template: LoadWire.Template
    private var joined = 0
    /// The client outside the room that sends the broadcasts (the last one opened).
    private var control: LoadClient?
    /// Per broadcast: its send time (ns since the run started) and how many members got it.
    private var sentAt: [UInt64] = []
    private var deliveredTo: [Int] = []
    private var sent = 0
    private var completed = 0
    private var deliveries = 0
    /// Deliveries of measured broadcasts.
    private var measuredDeliveries = 0
    private var firstMeasuredAt: UInt64 = 0
    private var lastDeliveryAt: UInt64 = 0
    private var completion = LatencySamples()
    private var deliveryLatency = LatencySamples()
    /// The schedule of `--brate`; nil with the window.
    private var pacer: RatePacer?
    private var phaseStart: UInt64 = 0

    private var total: Int { self.options.broadcasts + self.options.bwarm }

    init(options: LoadOptions, loop: EventLoop) {
        let wire = LoadWire(payloadBytes: options.payload)
        self.template = wire.template(event: "broadcast", leadingArguments: [.string("bench")])
        super.init(options: options, loop: loop, targetClients: options.clients + 1, wire: wire)
        self.sentAt = Array(repeating: 0, count: self.total)
        self.deliveredTo = Array(repeating: 0, count: self.total)
        self.deliveryLatency.reserve(min(50_000_000, self.total * options.clients))
    }

    override var startsWhenAllReady: Bool { false }

    override func didBecomeReady(_ client: LoadClient) {
        if client.index == self.options.clients {
            self.control = client
        } else {
            client.lastAckID += 1
            self.join(client)
        }
        self.startIfJoined()
    }

    private func join(_ client: LoadClient) {
        client.send(self.wire.encoded(.event("join", [.string("bench")], id: client.lastAckID)))
    }

    private func startIfJoined() {
        if self.joined == self.options.clients, let control = self.control, control.state == .ready {
            self.beginPhase()
        }
    }

    override func startPhase() {
        if self.options.bwarm == 0 {
            self.window.open()
            self.firstMeasuredAt = monotonicNanos()
        }
        if self.options.brate > 0 {
            self.startSchedule()
            return
        }
        for _ in 0..<self.options.bwindow where self.sent < self.total { self.sendBroadcast() }
    }

    private func startSchedule() {
        let interval = 1e9 / self.options.brate
        self.phaseStart = monotonicNanos()
        let end = self.phaseStart + UInt64(Double(self.total - 1) * interval)
        let pacer = RatePacer(loop: self.loop, start: self.phaseStart, interval: interval, end: end) { [self] in
            self.sendDue(interval: interval)
        }
        self.pacer = pacer
        pacer.run()
    }

    /// Sends every broadcast due by now, stamped with its intended time.
    private func sendDue(interval: Double) {
        self.pacer?.taken()
        guard !self.isFinished else { return }
        let now = monotonicNanos()
        while self.sent < self.total {
            let intended = self.phaseStart + UInt64(Double(self.sent) * interval)
            guard intended <= now else { break }
            self.sendBroadcast(stamp: intended &- self.startedAt)
        }
    }

    override func willFinish() {
        self.pacer?.stop()
    }

    private func sendBroadcast(stamp: UInt64? = nil) {
        guard let control = self.control else { return }
        let index = self.sent
        let stamp = stamp ?? self.relativeNow()
        self.sent += 1
        self.sentAt[index] = stamp
        let template = self.template
        control.send(length: LoadWire.eventLength(template, ackID: nil, numbers: stamp, UInt64(index))) { out in
            LoadWire.appendEvent(template, ackID: nil, numbers: stamp, UInt64(index), to: &out)
        }
    }

    override func client(_ client: LoadClient, answered answer: LoadWire.Answer) {
        switch answer {
        case .ack(let id, nil, _) where id == client.lastAckID && !self.phaseStarted:
            // The answer to `join`.
            self.joined += 1
            self.startIfJoined()
        case .broadcast(let stamp, let index, let intact):
            self.delivered(stamp: stamp, index: index, intact: intact)
        default:
            break
        }
    }

    private func delivered(stamp: UInt64, index: Int, intact: Bool) {
        guard index >= 0, index < self.sent, !self.isFinished else { return }
        if !intact { self.badReplies += 1 }
        let now = monotonicNanos()
        let latency = (now &- self.startedAt) &- stamp
        self.deliveries += 1
        let measured = index >= self.options.bwarm
        if measured {
            self.measuredDeliveries += 1
            self.deliveryLatency.add(latency)
        }
        self.lastDeliveryAt = now
        self.deliveredTo[index] += 1
        guard self.deliveredTo[index] == self.options.clients else { return }
        self.completed += 1
        if measured { self.completion.add(latency) }
        if self.completed == self.options.bwarm && !self.window.isOpen {
            self.window.open()
            self.firstMeasuredAt = monotonicNanos()
        }
        let timeUp = self.window.isOpen
            && monotonicNanos() >= self.window.openedAt + UInt64(self.options.duration * 1e9)
        if self.pacer == nil && self.sent < self.total && !timeUp { self.sendBroadcast() }
        if self.completed == self.sent && (self.pacer == nil || self.sent == self.total) {
            self.window.close()
            self.finish(status: 0)
        }
    }

    override func report() -> [String] {
        let span = self.firstMeasuredAt > 0 ? Double(self.lastDeliveryAt &- self.firstMeasuredAt) / 1e9 : 0
        let measured = max(0, self.completed - self.options.bwarm)
        let broadcasts = self.sent - self.options.bwarm
        var line = ResultLine()
        line.add("scenario", "broadcast")
        line.add("label", self.options.label)
        line.add("loadgen", "sio-load")
        line.add("transport", "websocket")
        line.add("clients", self.options.clients)
        line.add("broadcasts", broadcasts)
        line.add("bwindow", self.options.bwindow)
        if self.options.brate > 0 { line.add("brate", self.options.brate, decimals: 1) }
        line.add("servers", max(1, self.options.ports.count))
        line.add("payload", self.options.payload)
        line.add("completed", measured)
        line.add("deliveries", self.measuredDeliveries)
        line.add("expected_deliveries", broadcasts * self.options.clients)
        line.add("duration_s", span, decimals: 3)
        line.add("deliveries_per_s", span > 0 ? Double(self.measuredDeliveries) / span : -1, decimals: 1)
        line.add("broadcasts_per_s", span > 0 ? Double(measured) / span : -1, decimals: 2)
        line.add("all_delivered_p50_ms", self.completion.quantileMillis(0.5), decimals: 3)
        line.add("all_delivered_p99_ms", self.completion.quantileMillis(0.99), decimals: 3)
        line.add("all_delivered_max_ms", self.completion.maxMillis(), decimals: 3)
        line.add("delivery_lat_p50_ms", self.deliveryLatency.quantileMillis(0.5), decimals: 3)
        line.add("delivery_lat_p99_ms", self.deliveryLatency.quantileMillis(0.99), decimals: 3)
        if self.window.samplesServer && self.measuredDeliveries > 0 {
            line.add("server_cpu_us_per_delivery", 1e6 * self.window.serverCPUSeconds / Double(self.measuredDeliveries),
                     decimals: 3)
        }
        if self.measuredDeliveries > 0 {
            line.add("loadgen_cpu_us_per_delivery",
                     1e6 * self.window.loadgenCPUSeconds / Double(self.measuredDeliveries), decimals: 3)
        }
        self.addCommonFields(to: &line)
        return [line.text]
    }
}
