import EngineIO
import Foundation
import Transport

/// The `echo` scenario: every connection keeps `--window` messages in flight (`echo`, or `echo-ack` with
/// `--ack`); each answer is timed and immediately replaced by a new message until the measured window
/// ends. Counted like `sioload`: answers that arrive while the window is open and before its end time.
final class EchoRun: LoadRun, @unchecked Sendable {
    // Invariant for @unchecked Sendable: as for `LoadRun`, loop thread only.

    // Hot stored properties skip dynamic exclusivity checks; no access to them spans a re-entrant call.
    @exclusivity(unchecked) private var traffic: EchoTraffic
    @exclusivity(unchecked) private var endAt: UInt64 = .max
    @exclusivity(unchecked) private var counting = false

    init(options: LoadOptions, loop: EventLoop) {
        let wire = LoadWire(payloadBytes: options.payload)
        self.traffic = EchoTraffic(options: options, wire: wire)
        super.init(options: options, loop: loop, targetClients: options.conns, wire: wire)
    }

    override func startPhase() {
        // Answers are counted from the window's opening (a timer at the end of the warm-up) to `endAt`.
        self.endAt = monotonicNanos() + UInt64((self.options.warmup + self.options.duration) * 1e9)
        // Room for a million answers per second before the array has to grow inside the window.
        self.traffic.latencies.reserve(Int((self.options.duration + 1) * 1_000_000))
        for client in self.clients where client.state == .ready {
            for _ in 0..<self.options.window { self.traffic.send(on: client, stamp: self.relativeNow()) }
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

    override func client(_ client: LoadClient, answered answer: LoadWire.Answer) {
        guard let (sentAt, intact) = self.traffic.stamp(of: answer) else { return }
        if !intact { self.badReplies += 1 }
        let now = monotonicNanos()
        guard now < self.endAt, !self.isFinished else { return }
        let relative = now &- self.startedAt
        if self.counting { self.traffic.count(latency: relative &- sentAt) }
        self.traffic.send(on: client, stamp: relative)
    }

    override func report() -> [String] {
        [self.echoResultLine(scenario: "echo", traffic: &self.traffic, window: self.options.window)]
    }
}
