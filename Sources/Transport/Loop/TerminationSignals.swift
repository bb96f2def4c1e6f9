import Foundation
import Glibc
import Synchronization

/// Runs handlers when the process gets SIGINT or SIGTERM (graceful shutdown; a second signal exits at once),
/// and SIGHUP handlers (`onHangup`).
///
/// The signal handler is installed with `sigaction` before `install` returns, so a signal that arrives right
/// after a server announced its port is never lost. (A Dispatch signal source is registered asynchronously,
/// and the process ignored SIGTERM in between: a supervisor that stopped a server that had just started
/// waited forever.) The handler only writes the signal number to a pipe; a thread reads it and runs the
/// handlers, outside the signal context.
public enum TerminationSignals {
    /// Registers `handler` for SIGINT and SIGTERM. Keep the returned value alive for as long as the handler
    /// should stay registered.
    public static func install(_ handler: @escaping @Sendable (Int32) -> Void) -> Registration {
        TerminationSignalHub.shared.catchTermination()
        return TerminationSignalHub.shared.add(handler)
    }

    /// Runs `handler` on every SIGHUP from now on (the usual request to reload configuration or certificates),
    /// through the same pipe and thread as the termination signals: the `sigaction` handler is in place before
    /// this returns, so a SIGHUP sent right after a server announced its port is never lost, and SIGHUP does not
    /// count as a termination signal. Keep the returned value alive for as long as the handler should run.
    public static func onHangup(_ handler: @escaping @Sendable () -> Void) -> Registration {
        TerminationSignalHub.shared.addHangup(handler)
    }

    /// Catches SIGINT and SIGTERM from now on, before any handler is registered: a signal that arrives
    /// meanwhile goes to the first handler `install` registers. Call it before announcing readiness.
    public static func prepare() {
        TerminationSignalHub.shared.catchTermination()
    }

    /// A registered handler; dropping it unregisters the handler.
    public final class Registration: Sendable {
        let id: Int

        init(id: Int) { self.id = id }

        deinit { TerminationSignalHub.shared.remove(self.id) }
    }
}

/// The write end of the pipe the signal handler writes to (set once, before the handler is installed).
nonisolated(unsafe) private var terminationPipeWriteFD: Int32 = -1

/// The signal handler (SIGINT, SIGTERM, and SIGHUP once asked for): async-signal-safe, it only writes one byte.
private func noteTerminationSignal(_ number: Int32) {
    let saved = errno
    var byte = UInt8(truncatingIfNeeded: number)
    _ = write(terminationPipeWriteFD, &byte, 1)
    errno = saved
}

/// The process-wide pipe, the `sigaction` handlers and the thread that runs the registered handlers.
private final class TerminationSignalHub: Sendable {
    static let shared = TerminationSignalHub()

    private struct State {
        var nextID = 0
        var handlers: [(id: Int, handler: @Sendable (Int32) -> Void)] = []
        var hangupHandlers: [(id: Int, handler: @Sendable () -> Void)] = []
        var catchesHangup = false
        var catchesTermination = false
        var signalsSeen = 0
        /// A signal that came while no handler was registered.
        var unhandled: Int32?
    }

    private let state = Mutex(State())

    private init() {
        signal(SIGPIPE, SIG_IGN)
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        terminationPipeWriteFD = fds[1]
        let readFD = fds[0]
        let thread = Thread { [self] in self.watch(readFD) }
        thread.name = "termination-signals"
        thread.start()
    }

    /// Installs the SIGINT and SIGTERM handlers, once. Not done for `onHangup` alone: a process that only
    /// reloads on SIGHUP keeps the default action of the termination signals.
    func catchTermination() {
        let install = self.state.withLock { state -> Bool in
            defer { state.catchesTermination = true }
            return !state.catchesTermination
        }
        if install { for number in [SIGINT, SIGTERM] { Self.catchSignal(number) } }
    }

    func add(_ handler: @escaping @Sendable (Int32) -> Void) -> TerminationSignals.Registration {
        let (id, unhandled) = self.state.withLock { state -> (Int, Int32?) in
            state.nextID += 1
            state.handlers.append((state.nextID, handler))
            defer { state.unhandled = nil }
            return (state.nextID, state.unhandled)
        }
        if let unhandled { DispatchQueue.global().async { handler(unhandled) } }
        return TerminationSignals.Registration(id: id)
    }

    func addHangup(_ handler: @escaping @Sendable () -> Void) -> TerminationSignals.Registration {
        let (id, install) = self.state.withLock { state -> (Int, Bool) in
            state.nextID += 1
            state.hangupHandlers.append((state.nextID, handler))
            defer { state.catchesHangup = true }
            return (state.nextID, !state.catchesHangup)
        }
        // Only once someone asks: until then SIGHUP keeps its default action (a server without anything to
        // reload ends, as any program does).
        if install { Self.catchSignal(SIGHUP) }
        return TerminationSignals.Registration(id: id)
    }

    func remove(_ id: Int) {
        self.state.withLock { state in
            state.handlers.removeAll { $0.id == id }
            state.hangupHandlers.removeAll { $0.id == id }
        }
    }

    private static func catchSignal(_ number: Int32) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = noteTerminationSignal
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(number, &action, nil)
    }

    private func watch(_ readFD: Int32) {
        while true {
            var byte: UInt8 = 0
            let count = read(readFD, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            guard count == 1 else { return }
            let number = Int32(byte)
            if number == SIGHUP {
                for handler in self.state.withLock({ $0.hangupHandlers.map(\.handler) }) { handler() }
                continue
            }
            let (first, handlers) = self.state.withLock { state in
                state.signalsSeen += 1
                if state.handlers.isEmpty { state.unhandled = number }
                return (state.signalsSeen == 1, state.handlers.map(\.handler))
            }
            // The second signal is for impatient operators (or a shutdown that hangs).
            guard first else { exit(128 + number) }
            for handler in handlers { handler(number) }
        }
    }
}
