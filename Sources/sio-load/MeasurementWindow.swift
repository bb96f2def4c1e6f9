import EngineIO
import Transport

/// The measured part of a run: wall time, this process's CPU, the server's CPU and RSS, and the whole
/// machine's busy time between `open` and `close`, sampled as `sioload` samples them.
struct MeasurementWindow {
    private(set) var isOpen = false
    private(set) var isClosed = false
    /// Monotonic ns when the window opened.
    private(set) var openedAt: UInt64 = 0
    private(set) var wallSeconds = 0.0
    private(set) var loadgenCPUSeconds = 0.0
    private(set) var serverCPUSeconds = 0.0
    private(set) var machineBusySeconds = 0.0
    private(set) var serverRSSKB = 0
    private(set) var serverProcesses = 0
    /// CPU seconds of each of `--server-pids` over the window.
    private(set) var eachServerCPUSeconds: [Double] = []

    private let serverSID: Int32
    private let serverPID: Int32
    private var loadgenCPU0 = 0.0
    private var serverCPU0 = 0.0
    private var machine0 = 0.0
    private let serverPIDs: [Int32]
    private var eachServerCPU0: [Double] = []

    init(serverSID: Int32, serverPID: Int32, serverPIDs: [Int32] = []) {
        self.serverSID = serverSID
        self.serverPID = serverPID
        self.serverPIDs = serverPIDs
    }

    private func eachServerCPU() -> [Double] {
        self.serverPIDs.map { ProcessUsage.server(sid: 0, pid: $0).cpuSeconds }
    }

    /// Whether the server's CPU is being sampled.
    var samplesServer: Bool { self.serverSID > 0 || self.serverPID > 0 }

    mutating func open() {
        guard !self.isOpen else { return }
        self.isOpen = true
        self.openedAt = monotonicNanos()
        self.loadgenCPU0 = ProcessUsage.selfCPUSeconds()
        self.machine0 = ProcessUsage.machineBusySeconds()
        self.serverCPU0 = ProcessUsage.server(sid: self.serverSID, pid: self.serverPID).cpuSeconds
        self.eachServerCPU0 = self.eachServerCPU()
    }

    mutating func close() {
        guard self.isOpen, !self.isClosed else { return }
        self.isClosed = true
        self.wallSeconds = Double(monotonicNanos() - self.openedAt) / 1e9
        self.loadgenCPUSeconds = ProcessUsage.selfCPUSeconds() - self.loadgenCPU0
        self.machineBusySeconds = ProcessUsage.machineBusySeconds() - self.machine0
        let server = ProcessUsage.server(sid: self.serverSID, pid: self.serverPID)
        self.serverCPUSeconds = server.cpuSeconds - self.serverCPU0
        self.serverRSSKB = server.rssKB
        self.serverProcesses = server.processes
        self.eachServerCPUSeconds = zip(self.eachServerCPU(), self.eachServerCPU0).map { $0 - $1 }
    }
}
