import EngineIO
import Foundation
import Synchronization
import Transport

/// How a run ended: the JSON result lines to print, and the exit status (`sioload`'s codes: 0 done,
/// 3 interrupted, 4 hit `--max-time`, 5 clients could not connect, 7 too many failed connections in a
/// capacity step).
struct RunOutcome: Sendable {
    var lines: [String]
    var status: Int32
}

/// What every scenario shares: opening the clients with a bounded number of handshakes in flight,
/// counting failures, the run's deadlines, the measurement window and the common result fields.
/// A scenario subclass starts its phase once every client is ready and reports at the end.
///
/// Everything runs on one event loop thread, as `sioload` runs on one epoll thread.
class LoadRun: LoadClientEvents, @unchecked Sendable {
    // Invariant for @unchecked Sendable: created on any thread, then used on `loop`'s thread only.

    /// Set from the signal handler; the run checks it every 50 ms.
    static let interrupted = Atomic<Bool>(false)

    let options: LoadOptions
    let loop: EventLoop
    let wire: LoadWire
    /// Monotonic ns when the run started; the timestamps inside messages count from here.
    let startedAt: UInt64
    let targetClients: Int
    /// How many clients may be opened so far: all of them, or (capacity) those of the current step.
    final var openLimit: Int
    final var clients: [LoadClient] = []
    final var ready = 0
    final var failed = 0
    final var droppedAfterReady = 0
    final var protocolErrors = 0
    /// Answers whose payload did not come back unchanged.
    @exclusivity(unchecked) final var badReplies = 0
    final var phaseStarted = false
    final var window: MeasurementWindow
    @exclusivity(unchecked) final private(set) var isFinished = false
    private var opening = false
    private var housekeeping: LoopTimer?
    private var completion: ((RunOutcome) -> Void)?

    init(options: LoadOptions, loop: EventLoop, targetClients: Int, wire: LoadWire) {
        self.options = options
        self.loop = loop
        self.wire = wire
        self.startedAt = monotonicNanos()
        self.targetClients = targetClients
        self.openLimit = targetClients
        self.window = MeasurementWindow(serverSID: options.serverSID, serverPID: options.serverPID,
                                        serverPIDs: options.serverPIDs)
    }

    /// Starts connecting; `completion` runs once, on the loop, when the run is over. Loop thread only.
    final func start(_ completion: @escaping (RunOutcome) -> Void) {
        self.completion = completion
        self.clients.reserveCapacity(self.targetClients)
        self.housekeeping = self.loop.schedule(afterMillis: 50) { [self] in self.tick() }
        self.openMore()
    }

    /// The client of the given position; the broadcast run uses it for its control client too.
    func makeClient(index: Int) -> LoadClient {
        switch self.options.transport {
        case .websocket:
            return WebSocketLoadClient(index: index, loop: self.loop, options: self.options, wire: self.wire, events: self)
        case .polling:
            return PollingLoadClient(index: index, loop: self.loop, options: self.options, wire: self.wire, events: self)
        }
    }

    // MARK: Scenario hooks

    /// Every client is ready: start sending.
    func startPhase() {}

    /// A ready client answered something.
    func client(_ client: LoadClient, answered answer: LoadWire.Answer) {}

    /// A client became ready.
    func didBecomeReady(_ client: LoadClient) {}

    /// A client failed or dropped, before the phase, in a run that does not need every client (capacity).
    func didFail(_ client: LoadClient) {}

    /// The result lines, printed when the run ends normally or at `--max-time` with the window open.
    func report() -> [String] { [] }

    /// The result lines at the end of a run that ended with `status`: the report when the window opened
    /// and the run ended normally or at `--max-time`, as `sioload` prints it.
    func results(status: Int32) -> [String] {
        guard status == 0 || status == 4, self.window.isOpen else { return [] }
        self.window.close()
        return self.report()
    }

    /// The run is ending: stop what the scenario runs besides the loop.
    func willFinish() {}

    /// Whether the phase needs every client (echo, rate, broadcast): then clients that cannot connect
    /// within `--connect-timeout`, or fail outright, end the run with status 5. Capacity measures the
    /// connecting itself and judges failures per step.
    var needsEveryClient: Bool { true }

    // MARK: Connecting

    /// Opens clients up to `openLimit`, with at most `--pending` handshakes in progress.
    final func openMore() {
        guard !self.opening, !self.isFinished else { return }
        self.opening = true
        defer { self.opening = false }
        while self.clients.count < self.openLimit
            && self.clients.count - self.ready - self.failed < self.options.pending {
            let client = self.makeClient(index: self.clients.count)
            self.clients.append(client)
            client.openedAt = monotonicNanos()
            client.start()
        }
    }

    final func clientReady(_ client: LoadClient) {
        self.ready += 1
        self.didBecomeReady(client)
        if self.ready == self.targetClients && self.startsWhenAllReady {
            self.beginPhase()
        } else {
            self.openMore()
        }
    }

    /// Whether the phase starts as soon as every client is ready; a scenario that needs more set-up first
    /// (joining a room) says no and calls `beginPhase` itself.
    var startsWhenAllReady: Bool { true }

    /// Starts the scenario's phase, once.
    final func beginPhase() {
        guard !self.phaseStarted, !self.isFinished else { return }
        self.phaseStarted = true
        self.log(String(format: "%d clients ready after %.2fs, starting", self.ready,
                        Double(monotonicNanos() - self.startedAt) / 1e9))
        self.startPhase()
    }

    final func clientFailed(_ client: LoadClient, reason: String, wasReady: Bool, protocolError: Bool) {
        if protocolError { self.protocolErrors += 1 }
        if wasReady { self.droppedAfterReady += 1 } else { self.failed += 1 }
        if self.failed + self.droppedAfterReady <= 5 { self.log("client \(client.index) failed: \(reason)") }
        guard !self.phaseStarted, !self.isFinished else { return }
        self.openMore()
        if !self.needsEveryClient {
            self.didFail(client)
        } else if self.failed > 0 && self.clients.count == self.targetClients
                    && self.ready + self.failed >= self.targetClients {
            self.log("\(self.failed) clients failed to connect")
            self.finish(status: 5)
        }
    }

    // MARK: Clock

    private func tick() {
        guard !self.isFinished else { return }
        let elapsed = Double(monotonicNanos() - self.startedAt) / 1e9
        if Self.interrupted.load(ordering: .relaxed) {
            self.log("interrupted")
            self.finish(status: 3)
        } else if elapsed >= self.options.maxTime {
            self.log("hit --max-time deadline")
            self.finish(status: 4)
        } else if self.needsEveryClient && !self.phaseStarted && elapsed > self.options.connectTimeout {
            self.log("only \(self.ready)/\(self.targetClients) clients ready after \(Int(self.options.connectTimeout))s")
            self.finish(status: 5)
        } else {
            self.housekeeping = self.loop.schedule(afterMillis: 50) { [self] in self.tick() }
        }
    }

    /// Ends the run: closes every client and hands the outcome to the completion. Loop thread only.
    final func finish(status: Int32) {
        guard !self.isFinished else { return }
        self.isFinished = true
        if let timer = self.housekeeping { self.loop.cancel(timer) }
        self.housekeeping = nil
        self.willFinish()
        let lines = self.results(status: status)
        for client in self.clients { client.shutdown() }
        let completion = self.completion
        self.completion = nil
        completion?(RunOutcome(lines: lines, status: status))
    }

    // MARK: Output

    final func log(_ message: String) {
        FileHandle.standardError.write(Data("sio-load: \(message)\n".utf8))
    }

    /// Nanoseconds since the run started: the timestamp put into a message.
    @inline(__always)
    final func relativeNow() -> UInt64 { monotonicNanos() &- self.startedAt }

    /// The fields every result line ends with: CPU of this process, of the server and of the machine over
    /// the window, and the failure counters.
    final func addCommonFields(to line: inout ResultLine) {
        let wall = self.window.wallSeconds
        let percent = { (seconds: Double) in wall > 0 ? 100 * seconds / wall : -1 }
        line.add("loadgen_cpu_pct", percent(self.window.loadgenCPUSeconds), decimals: 1)
        if self.window.samplesServer {
            line.add("server_cpu_pct_window", percent(self.window.serverCPUSeconds), decimals: 1)
        }
        if wall > 0 {
            line.add("machine_busy_pct", percent(self.window.machineBusySeconds), decimals: 1)
            line.add("ncpu", ProcessUsage.processorCount)
            if self.window.samplesServer {
                line.add("other_cpu_pct", percent(self.window.machineBusySeconds - self.window.loadgenCPUSeconds
                                                  - self.window.serverCPUSeconds), decimals: 1)
            }
        }
        if self.window.samplesServer {
            line.add("server_rss_kb", self.window.serverRSSKB)
            line.add("server_procs", self.window.serverProcesses)
        }
        for (index, seconds) in self.window.eachServerCPUSeconds.enumerated() {
            line.add("server_cpu_s_\(index)", seconds, decimals: 4)
        }
        line.add("loadgen_cpu_total_s", ProcessUsage.selfCPUSeconds(), decimals: 2)
        line.add("loadgen_elapsed_s", Double(monotonicNanos() - self.startedAt) / 1e9, decimals: 2)
        line.add("bad_replies", self.badReplies)
        line.add("failed_conns", self.failed)
        line.add("dropped_after_ready", self.droppedAfterReady)
        line.add("protocol_errors", self.protocolErrors)
    }
}
