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
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        let child = try ChildProcess.spawn(["/bin/sh", "-c", command], environment: env)
        let pid = child.pid
        RunningCommands.add(pid)
        defer { RunningCommands.remove(pid) }

        Thread.detachNewThread {
            // A command that exits without reading gives EPIPE here (see StopSignals: SIGPIPE does not kill us).
            input.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let written = write(child.stdin, raw.baseAddress! + offset, raw.count - offset)
                    if written > 0 { offset += written } else if written < 0 && errno == EINTR { continue } else { break }
                }
            }
            _ = close(child.stdin)
        }
        let exited = Atomic<Bool>(false)
        let collected = OutputBox()
        let readerDone = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let (out, err) = PipeCollector.collect(child.stdout, child.stderr, commandExited: { exited.load(ordering: .acquiring) })
            _ = close(child.stdout)
            _ = close(child.stderr)
            collected.set(stdout: out)
            collected.set(stderr: err)
            readerDone.signal()
        }
        var timedOut = false
        let exitCode = Atomic<Int32>(0)
        let finished = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            exitCode.store(child.wait(), ordering: .releasing)
            finished.signal()
        }
        if timeout > 0, finished.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            RunningCommands.kill(pid)
            finished.wait()
        } else if timeout <= 0 {
            finished.wait()
        }
        exited.store(true, ordering: .releasing)
        readerDone.wait()
        let (out, err) = collected.values
        return Outcome(exitCode: exitCode.load(ordering: .acquiring), stdout: out, stderr: err, timedOut: timedOut)
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
/// Each command runs in a process group of its own (the shell is its leader): killing the group reaches the
/// shell's children too, which killing the shell alone would leave running, orphaned.
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

/// Reads a command's stdout and stderr together until both end, or until the command has exited and its
/// pipes hold nothing more: a background process it started may keep the pipes open for hours, and the
/// answer must not wait for it (what such a process writes after the command ended is not collected).
enum PipeCollector {
    static func collect(_ outFD: Int32, _ errFD: Int32, commandExited: () -> Bool) -> (Data, Data) {
        var outputs = [Data(), Data()]
        var open = [true, true]
        let fds = [outFD, errFD]
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while open[0] || open[1] {
            // Checked before polling: after the exit, one quiet round means the pipes are drained.
            let exitedBeforeRound = commandExited()
            var polled = fds.enumerated().map { index, fd in
                pollfd(fd: open[index] ? fd : -1, events: Int16(POLLIN), revents: 0)
            }
            let ready = poll(&polled, nfds_t(polled.count), 50)
            if ready < 0 && errno != EINTR { break }
            var readSomething = false
            for index in 0..<2 where open[index] && polled[index].revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(fds[index], $0.baseAddress, $0.count) }
                if count > 0 {
                    outputs[index].append(contentsOf: buffer[0..<count])
                    readSomething = true
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    open[index] = false
                }
            }
            if exitedBeforeRound && !readSomething { break }
        }
        return (outputs[0], outputs[1])
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
