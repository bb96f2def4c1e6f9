import Foundation
import SocketIOTestSupport
import XCTest

/// A python-socketio client (Support/python_cluster_client.py) run by the repository's `.venv` Python; every
/// line it prints lands in `events`. It exits when `close()` closes its standard input.
final class PythonClusterClient: @unchecked Sendable {
    // Invariant for @unchecked Sendable: `process` and `input` are set once in init and only read afterwards.
    let events = EventRecorder(defaultTimeout: 20)
    private let process = Process()
    private let input = Pipe()

    static var python: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".venv/bin/python")
    }

    /// Starts the client and waits (at most 20 s) until it is connected; skips when there is no `.venv`.
    init(url: String, name: String, rooms: [String]) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python.path) else {
            throw XCTSkip("no .venv/bin/python (run `make venv`)")
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python_cluster_client.py")
        self.process.executableURL = Self.python
        self.process.arguments = ["-u", script.path, url, name] + rooms
        let output = Pipe()
        self.process.standardOutput = output
        self.process.standardInput = self.input
        self.process.standardError = FileHandle.standardError
        try self.process.run()
        let events = self.events
        let handle = output.fileHandleForReading
        Thread.detachNewThread {
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: 0x0A) {
                    events.record(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                    pending.removeSubrange(pending.startIndex...newline)
                }
            }
        }
        guard self.events.wait(until: { $0.contains { $0.hasPrefix("connected ") } }) else {
            self.close()
            throw XCTSkip("the python client did not connect")
        }
    }

    /// The socket id the server gave it.
    var id: String {
        self.events.all.first { $0.hasPrefix("connected ") }.map { String($0.dropFirst("connected ".count)) } ?? ""
    }

    func saw(_ line: String) -> Bool { self.events.wait(for: line) }

    func close() {
        try? self.input.fileHandleForWriting.close()
        let deadline = Date(timeIntervalSinceNow: 5)
        while self.process.isRunning && Date() < deadline { usleep(10_000) }
        if self.process.isRunning { self.process.terminate() }
    }
}
