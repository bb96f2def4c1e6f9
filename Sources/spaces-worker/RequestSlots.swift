import Synchronization

/// Runs jobs at most `count` at a time; the rest wait in arrival order.
///
/// A lock rather than an actor: taking and giving back a slot cost two actor hops per request before. The queue
/// holds the requests the server assigned to this worker, which it caps at the registered concurrency per space.
final class RequestSlots: Sendable {
    private struct State: ~Copyable {
        var free: Int
        var waiting: [@Sendable () async -> Void] = []
    }

    private let state: Mutex<State>

    init(_ count: Int) { self.state = Mutex(State(free: max(1, count))) }

    /// Starts `job` in a task of its own now if a slot is free, otherwise when the jobs before it have started.
    func run(_ job: @escaping @Sendable () async -> Void) {
        let startsNow = self.state.withLock { state -> Bool in
            guard state.free > 0 else {
                state.waiting.append(job)
                return false
            }
            state.free -= 1
            return true
        }
        if startsNow { self.start(job) }
    }

    private func start(_ job: @escaping @Sendable () async -> Void) {
        Task {
            await job()
            self.finished()
        }
    }

    /// A job ended: its slot goes to the first one waiting, or back to the free ones.
    private func finished() {
        let next = self.state.withLock { state -> (@Sendable () async -> Void)? in
            if state.waiting.isEmpty {
                state.free += 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        if let next { self.start(next) }
    }
}
