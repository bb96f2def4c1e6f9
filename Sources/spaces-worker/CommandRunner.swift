import Foundation
import Glibc
import SocketIOClient
import Synchronization

/// Runs `--exec` commands: the request's payload as JSON on stdin, the result from stdout.
///
/// stdin is written and stdout/stderr are read on their own threads, all at once, so a command that
/// prints a lot before reading its input (or never reads it) cannot deadlock either side on a full pipe.
struct CommandRunner: Sendable {
    /// The shell command, run with `/bin/sh -c`.
    var command: String
    /// Seconds after which the command is killed (0: never).
    var timeoutSeconds: Double

    /// What a run produced.
    struct Outcome: Sendable {
        var exitCode: Int32
        var stdout: Data
        var stderr: Data
        var timedOut: Bool
    }

    /// Runs the command with `input` on stdin.
    func run(input: Data, environment: [String: String] = [:]) async throws -> Outcome {
        let command = self.command
        let timeout = self.timeoutSeconds
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                do {
                    continuation.resume(returning: try Self.runBlocking(command: command, input: input,
                                                                        environment: environment, timeout: timeout))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    private static func runBlocking(command: String, input: Data, environment: [String: String], timeout: Double) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let pid = process.processIdentifier
        RunningCommands.add(pid)
        defer { RunningCommands.remove(pid) }

        let group = DispatchGroup()
        let collected = OutputBox()
        group.enter()
        Thread.detachNewThread {
            // A command that exits without reading gives EPIPE here (see StopSignals: SIGPIPE does not kill us).
            try? stdin.fileHandleForWriting.write(contentsOf: input)
            try? stdin.fileHandleForWriting.close()
            group.leave()
        }
        group.enter()
        Thread.detachNewThread {
            let data = stdout.fileHandleForReading.readDataToEndOfFile()
            collected.set(stdout: data)
            group.leave()
        }
        group.enter()
        Thread.detachNewThread {
            let data = stderr.fileHandleForReading.readDataToEndOfFile()
            collected.set(stderr: data)
            group.leave()
        }
        var timedOut = false
        if timeout > 0 {
            let finished = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                process.waitUntilExit()
                finished.signal()
            }
            if finished.wait(timeout: .now() + timeout) == .timedOut {
                timedOut = true
                RunningCommands.kill(pid)
                finished.wait()
            }
        } else {
            process.waitUntilExit()
        }
        // Grandchildren may keep the pipes open after the shell exits; do not wait for them forever.
        _ = group.wait(timeout: .now() + 5)
        let (out, err) = collected.values
        return Outcome(exitCode: process.terminationStatus, stdout: out, stderr: err, timedOut: timedOut)
    }

    /// The `inference_result` fields for an outcome: a JSON object printed on stdout is the result as is,
    /// other text becomes `{text_output}`; a failure is `status: failed` with stderr in `result.error`.
    static func result(of outcome: Outcome) -> (status: String, result: JSONValue) {
        if outcome.timedOut {
            return ("failed", ["error": "command timed out"])
        }
        guard outcome.exitCode == 0 else {
            var message = String(decoding: outcome.stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if message.isEmpty { message = "command exited with status \(outcome.exitCode)" }
            return ("failed", ["error": .string(message), "exit_code": .int(Int64(outcome.exitCode))])
        }
        if let value = try? JSONParser.parse([UInt8](outcome.stdout)), case .object = value {
            return ("completed", value)
        }
        let text = String(decoding: outcome.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return ("completed", ["text_output": .string(text)])
    }
}

/// The commands running now, so that a timeout or the worker's own end also stops what they started.
///
/// Foundation's `Process` starts each command in a process group of its own (the shell is its leader): killing
/// the group reaches the shell's children too, which killing the shell alone would leave running, orphaned.
enum RunningCommands {
    private static let pids = Mutex<Set<pid_t>>([])

    static func add(_ pid: pid_t) { _ = self.pids.withLock { $0.insert(pid) } }
    static func remove(_ pid: pid_t) { _ = self.pids.withLock { $0.remove(pid) } }

    /// SIGKILLs the command's process group (the command alone if it has no group of its own).
    static func kill(_ pid: pid_t) {
        if Glibc.kill(-pid, SIGKILL) != 0 { _ = Glibc.kill(pid, SIGKILL) }
    }

    /// Kills every running command (the worker is about to exit).
    static func killAll() {
        for pid in self.pids.withLock({ $0 }) { self.kill(pid) }
    }
}

/// The outputs collected by the reader threads.
private final class OutputBox: @unchecked Sendable {
    // Invariant for @unchecked Sendable: every access holds `lock`.
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()

    func set(stdout: Data) { self.lock.withLock { self.out = stdout } }
    func set(stderr: Data) { self.lock.withLock { self.err = stderr } }
    var values: (Data, Data) { self.lock.withLock { (self.out, self.err) } }
}
