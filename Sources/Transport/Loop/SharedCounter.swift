import Synchronization

/// A thread-safe counter: a countdown for "the last one of N closes the door", or a count of loops doing
/// something that at least one must keep doing.
public final class SharedCounter: Sendable {
    private let value: Atomic<Int>

    /// A counter starting at `initial`.
    public init(_ initial: Int) { self.value = Atomic(initial) }

    /// Decrements and returns the new value.
    public func decrement() -> Int {
        self.value.subtract(1, ordering: .acquiringAndReleasing).newValue
    }

    /// Increments and returns the new value.
    @discardableResult
    public func increment() -> Int {
        self.value.add(1, ordering: .acquiringAndReleasing).newValue
    }

    /// Decrements unless that would leave fewer than `floor`; true when it did.
    public func decrement(keepingAtLeast floor: Int) -> Bool {
        var current = self.value.load(ordering: .relaxed)
        while current > floor {
            let (exchanged, original) = self.value.compareExchange(
                expected: current, desired: current - 1, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
        return false
    }
}
