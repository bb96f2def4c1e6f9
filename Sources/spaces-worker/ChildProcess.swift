import CEngineIOShims
import Foundation
import Glibc

/// A child process started with `posix_spawn`, its stdin/stdout/stderr on pipes, in a process group of its own,
/// and reaped with `waitpid`.
///
/// Foundation's `Process` was used first, but on Linux it learns of the exit only when every process holding
/// an inherited descriptor has gone: a command that leaves a background process running was "running" for
/// as long as that process lived.
struct ChildProcess {
    let pid: pid_t
    /// Our ends: write to `stdin`, read `stdout` and `stderr`. The caller closes them.
    let stdin: Int32
    let stdout: Int32
    let stderr: Int32

    struct SpawnError: Error, CustomStringConvertible {
        let call: String
        let code: Int32
        var description: String { "\(self.call) failed: \(String(cString: strerror(self.code)))" }
    }

    /// Starts `arguments[0]` (a path) with `arguments` and `environment`.
    static func spawn(_ arguments: [String], environment: [String: String]) throws(SpawnError) -> ChildProcess {
        var pipes: [[Int32]] = []
        for _ in 0..<3 {
            var ends: [Int32] = [-1, -1]
            guard ceio_pipe_cloexec(&ends) == 0 else {
                let code = errno
                for pair in pipes { pair.forEach { _ = close($0) } }
                throw SpawnError(call: "pipe2", code: code)
            }
            pipes.append(ends)
        }
        // Child ends: stdin reads pipes[0][0]; stdout and stderr write pipes[1][1] and pipes[2][1].
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipes[0][0], 0)
        posix_spawn_file_actions_adddup2(&actions, pipes[1][1], 1)
        posix_spawn_file_actions_adddup2(&actions, pipes[2][1], 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group (killing the group reaches what it started), default signal handling (we ignore
        // SIGPIPE, which a child would otherwise inherit), nothing blocked.
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        _ = close(pipes[0][0])
        _ = close(pipes[1][1])
        _ = close(pipes[2][1])
        guard rc == 0 else {
            _ = close(pipes[0][1])
            _ = close(pipes[1][0])
            _ = close(pipes[2][0])
            throw SpawnError(call: "posix_spawn", code: rc)
        }
        return ChildProcess(pid: pid, stdin: pipes[0][1], stdout: pipes[1][0], stderr: pipes[2][0])
    }

    /// Waits for the child to exit; returns its exit code (128 + signal when a signal ended it).
    func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(self.pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}
