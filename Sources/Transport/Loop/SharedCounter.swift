import Synchronization

/// A thread-safe countdown, for "the last one of N closes the door".
public final class SharedCounter: Sendable {
    private let value: Atomic<Int>

    /// A counter starting at `initial`.
    public init(_ initial: Int) { self.value = Atomic(initial) }

    /// Decrements and returns the new value.
    public func decrement() -> Int {
        self.value.subtract(1, ordering: .acquiringAndReleasing).newValue
    }
}
