import EngineIO
import Foundation
import SocketIO
import Transport

/// The `soak` scenario: a population of `--conns` WebSocket and `--polling-conns` polling clients, each in
/// room `bench`, kept for `--duration` seconds while, every second, `--churn` clients picked at random
/// leave (half with a Socket.IO DISCONNECT, half by dropping the connection) and as many new ones take their
/// places; `--rate` echoes per second go to random clients and `--brate` broadcasts per second, sent by a
/// random client, reach the whole room. A `soak-progress` line every `--report-every` seconds, then one
/// `soak` line; every client is closed at the end, so the server's descriptors can be checked to come back.
final class SoakRun: LoadRun, @unchecked Sendable {
    // Invariant for @unchecked Sendable: as for `LoadRun`, loop thread only.

    private var traffic: EchoTraffic
    private let broadcastTemplate: LoadWire.Template
    private var random = SystemRandomNumberGenerator()
    private var phaseStart: UInt64 = 0
    private var lastTick: UInt64 = 0
    private var lastReport: UInt64 = 0
    /// Fractions of a client, echo and broadcast carried from one tick (every 100 ms) to the next.
    private var churnDue = 0.0
    private var echoesDue = 0.0
    private var broadcastsDue = 0.0
    // Counters since the phase started.
    private var connects = 0
    private var disconnects = 0
    private var replacedDead = 0
    private var broadcastsSent = 0
    private var deliveries = 0
    private var connectFailures = 0
    /// Clients taken out in the last two reporting periods: kept alive until callbacks their transports
    /// might still have queued are over, then released (the generator must not grow either).
    private var retired: [LoadClient] = []
    private var retiredBefore: [LoadClient] = []

    private static let tickMillis = 100

    init(options: LoadOptions, loop: EventLoop) {
        let wire = LoadWire(payloadBytes: options.payload)
        self.traffic = EchoTraffic(options: options, wire: wire)
        self.broadcastTemplate = wire.template(event: "broadcast", leadingArguments: [.string("bench")])
        super.init(options: options, loop: loop, targetClients: options.conns + options.pollingConns, wire: wire)
    }

    /// The first `--conns` positions are WebSocket clients, the rest polling ones; a replacement keeps the
    /// transport of the position.
    override func makeClient(index: Int) -> LoadClient {
        if index < self.options.conns {
            return WebSocketLoadClient(index: index, loop: self.loop, options: self.options, wire: self.wire, events: self)
        }
        return PollingLoadClient(index: index, loop: self.loop, options: self.options, wire: self.wire, events: self)
    }

    override func didBecomeReady(_ client: LoadClient) {
        client.send(self.wire.encoded(.event("join", [.string("bench")])))
        if self.phaseStarted { self.connects += 1 }
    }

    override func startPhase() {
        self.phaseStart = monotonicNanos()
        self.lastReport = self.phaseStart
        self.lastTick = self.phaseStart
        self.window.open()
        self.loop.schedule(afterMillis: Self.tickMillis) { [self] in self.tick() }
    }

    // MARK: The phase

    private func tick() {
        guard !self.isFinished else { return }
        let now = monotonicNanos()
        // From the clock, not the timer's period: a late tick catches up instead of lowering the rates.
        let seconds = Double(now - self.lastTick) / 1e9
        self.lastTick = now
        self.churnDue += self.options.churn * seconds
        self.echoesDue += self.options.rate * seconds
        self.broadcastsDue += self.options.brate * seconds
        self.replaceDeadClients()
        while self.churnDue >= 1 {
            self.churnDue -= 1
            self.replace(at: Int.random(in: 0..<self.clients.count, using: &self.random), graceful: self.disconnects % 2 == 0)
        }
        while self.echoesDue >= 1 {
            self.echoesDue -= 1
            if let client = self.randomReadyClient() { self.traffic.send(on: client, stamp: self.relativeNow()) }
        }
        while self.broadcastsDue >= 1 {
            self.broadcastsDue -= 1
            if let client = self.randomReadyClient() { self.sendBroadcast(from: client) }
        }
        if Double(now - self.lastReport) / 1e9 >= self.options.reportEvery {
            self.lastReport = now
            self.emit(self.progressLine(scenario: "soak-progress"))
            self.retiredBefore = self.retired
            self.retired = []
        }
        if Double(now - self.phaseStart) / 1e9 >= self.options.duration {
            self.window.close()
            self.finish(status: 0)
            return
        }
        self.loop.schedule(afterMillis: Self.tickMillis) { [self] in self.tick() }
    }

    /// A random client that is ready; nil after a few misses (most are ready at any time).
    private func randomReadyClient() -> LoadClient? {
        for _ in 0..<4 {
            let client = self.clients[Int.random(in: 0..<self.clients.count, using: &self.random)]
            if client.state == .ready { return client }
        }
        return nil
    }

    private func sendBroadcast(from client: LoadClient) {
        let template = self.broadcastTemplate
        let stamp = self.relativeNow()
        let index = UInt64(self.broadcastsSent)
        client.send(length: LoadWire.eventLength(template, ackID: nil, numbers: stamp, index)) { out in
            LoadWire.appendEvent(template, ackID: nil, numbers: stamp, index, to: &out)
        }
        self.broadcastsSent += 1
    }

    /// Clients that dropped or failed to connect are replaced too, so that the population stays whole.
    private func replaceDeadClients() {
        for index in self.clients.indices where self.clients[index].state == .dead {
            self.replacedDead += 1
            self.replace(at: index, graceful: false)
        }
    }

    /// Takes the client at `index` away (a DISCONNECT first when `graceful`) and starts a new one there.
    private func replace(at index: Int, graceful: Bool) {
        let old = self.clients[index]
        if old.state == .ready {
            if graceful { old.send(self.wire.encoded(.disconnect())) }
            self.disconnects += 1
        } else if old.state != .dead {
            // Still connecting: leave it; the next tick picks another.
            return
        }
        old.shutdown()
        self.retired.append(old)
        let client = self.makeClient(index: index)
        self.clients[index] = client
        client.openedAt = monotonicNanos()
        client.start()
    }

    // MARK: Answers

    override func client(_ client: LoadClient, answered answer: LoadWire.Answer) {
        switch answer {
        case .broadcast(_, _, let intact):
            if !intact { self.badReplies += 1 }
            self.deliveries += 1
        default:
            guard let (sentAt, intact) = self.traffic.stamp(of: answer) else { return }
            if !intact { self.badReplies += 1 }
            self.traffic.count(latency: self.relativeNow() &- sentAt)
        }
    }

    // MARK: Output

    private func emit(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    private func progressLine(scenario: String) -> String {
        var line = ResultLine()
        line.add("scenario", scenario)
        line.add("label", self.options.label)
        line.add("loadgen", "sio-load")
        self.addProgressFields(to: &line)
        return line.text
    }

    /// Where the run stands: clients open by transport and the counters since the phase started.
    private func addProgressFields(to line: inout ResultLine) {
        var websocketOpen = 0
        var pollingOpen = 0
        for client in self.clients where client.state == .ready {
            if client.index < self.options.conns { websocketOpen += 1 } else { pollingOpen += 1 }
        }
        line.add("elapsed_s", Double(monotonicNanos() - self.phaseStart) / 1e9, decimals: 1)
        line.add("websocket_open", websocketOpen)
        line.add("polling_open", pollingOpen)
        line.add("connects", self.connects)
        line.add("disconnects", self.disconnects)
        line.add("replaced_dead", self.replacedDead)
        line.add("echo_sent", self.traffic.sent)
        line.add("echo_replies", self.traffic.replies)
        line.add("echo_p50_ms", self.traffic.latencies.quantileMillis(0.5), decimals: 3)
        line.add("echo_p99_ms", self.traffic.latencies.quantileMillis(0.99), decimals: 3)
        line.add("broadcasts", self.broadcastsSent)
        line.add("deliveries", self.deliveries)
        line.add("bad_replies", self.badReplies)
        line.add("failed_conns", self.failed)
        line.add("dropped_after_ready", self.droppedAfterReady)
        line.add("protocol_errors", self.protocolErrors)
    }

    override func report() -> [String] {
        var line = ResultLine()
        line.add("scenario", "soak")
        line.add("label", self.options.label)
        line.add("loadgen", "sio-load")
        line.add("conns", self.options.conns)
        line.add("polling_conns", self.options.pollingConns)
        line.add("churn_per_s", self.options.churn, decimals: 1)
        line.add("duration_s", self.window.wallSeconds, decimals: 1)
        line.add("connects_per_s", Double(self.connects) / max(self.window.wallSeconds, 1e-9), decimals: 1)
        line.add("echo_lost", max(0, self.traffic.sent - self.traffic.replies))
        self.addProgressFields(to: &line)
        return [line.text]
    }
}
