import Foundation
import Synchronization
import XCTest

/// A python-socketio server (Support/python_sio_server.py) run by the repository's `.venv` Python.
final class PythonServer: @unchecked Sendable {
    // Invariant for @unchecked Sendable: `process` is set once in init and only read afterwards.
    let port: Int
    /// The line that announced the port.
    let readyLine: String
    private let process: Process
    private let input: Pipe

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    static var python: URL { self.repositoryRoot.appendingPathComponent(".venv/bin/python") }

    /// Starts the server (on `port`, or a free one) and waits until it listens; skips the test when the
    /// virtual environment is missing (`make venv` creates it). `script` replaces python_sio_server.py
    /// (and `--port` is then not passed): any script that prints `listening on port N` when ready.
    init(port: Int = 0, arguments: [String] = [], script: URL? = nil) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python.path) else {
            throw XCTSkip("no .venv/bin/python (run `make venv`)")
        }
        let process = Process()
        process.executableURL = Self.python
        if let script {
            process.arguments = ["-u", script.path] + arguments
        } else {
            let server = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python_sio_server.py")
            process.arguments = ["-u", server.path, "--port", String(port)] + arguments
        }
        let output = Pipe()
        process.standardOutput = output
        // Held open for the server's lifetime: the server exits when it reads EOF (our process died).
        let input = Pipe()
        process.standardInput = input
        self.input = input
        process.standardError = FileHandle.standardError
        try process.run()
        self.process = process
        // Read the first line on another thread, with a bounded wait.
        let line = Mutex<String?>(nil)
        let ready = DispatchSemaphore(value: 0)
        let handle = output.fileHandleForReading
        Thread.detachNewThread {
            var data = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                data.append(chunk)
                if let text = String(data: data, encoding: .utf8), text.contains("\n") {
                    line.withLock { $0 = text }
                    break
                }
            }
            ready.signal()
        }
        guard ready.wait(timeout: .now() + 60) == .success,
              let text = line.withLock({ $0 }), let range = text.range(of: "listening on port "),
              let chosen = Int(text[range.upperBound...].prefix { $0.isNumber }) else {
            process.terminate()
            throw PythonServerError.didNotStart
        }
        self.port = chosen
        self.readyLine = text
    }

    var url: String { "http://127.0.0.1:\(self.port)" }

    /// Stops the server and waits (bounded) for the process to end.
    func stop() {
        guard self.process.isRunning else { return }
        self.process.terminate()
        let deadline = Date(timeIntervalSinceNow: 5)
        while self.process.isRunning && Date() < deadline { usleep(10_000) }
        if self.process.isRunning { kill(self.process.processIdentifier, SIGKILL) }
    }

    enum PythonServerError: Error { case didNotStart }
}
