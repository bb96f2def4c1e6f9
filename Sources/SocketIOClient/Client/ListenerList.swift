import Synchronization

/// A thread-safe list of listeners: added and removed from any thread, called on the loop thread from a
/// copy, so a listener may add or remove listeners while it runs.
final class ListenerList<Listener: Sendable>: Sendable {
    private struct State: ~Copyable {
        var nextID = 0
        var entries: [(id: Int, listener: Listener)] = []
    }

    private let state = Mutex(State())

    func add(_ listener: Listener) -> ClientHandlerID {
        self.state.withLock { state in
            state.nextID += 1
            state.entries.append((id: state.nextID, listener: listener))
            return ClientHandlerID(value: state.nextID)
        }
    }

    func remove(_ id: ClientHandlerID) {
        self.state.withLock { state in state.entries.removeAll { $0.id == id.value } }
    }

    func removeAll(where predicate: (Listener) -> Bool) {
        self.state.withLock { state in state.entries.removeAll { predicate($0.listener) } }
    }

    var snapshot: [Listener] {
        self.state.withLock { state in state.entries.map(\.listener) }
    }
}

/// Resumes a continuation at most once, whichever of the answer, the timeout or a cancellation comes first.
final class OnceContinuation<Value: Sendable, Failure: Error>: Sendable {
    private let continuation: Mutex<CheckedContinuation<Value, any Error>?>

    init(_ continuation: CheckedContinuation<Value, any Error>) {
        self.continuation = Mutex(continuation)
    }

    func resume(_ result: Result<Value, Failure>) {
        let continuation = self.continuation.withLock { value -> CheckedContinuation<Value, any Error>? in
            let taken = value
            value = nil
            return taken
        }
        continuation?.resume(with: result.mapError { $0 as any Error })
    }
}
