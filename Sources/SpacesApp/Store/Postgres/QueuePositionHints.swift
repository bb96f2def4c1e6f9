import Foundation
import Synchronization

/// Queue positions read in the same statement as their request (a status read, a submit's insert), handed to
/// the `queuePosition` call that follows: the core asks for the record and then for its position, and a second
/// round trip for the position would cost more than the read itself.
///
/// A hint is taken once, and only within `maxAge` of its read, so it is never older than the record it came
/// with by more than that; anything else asks PostgreSQL.
final class QueuePositionHints: Sendable {
    /// Seconds a hint may wait for its `queuePosition` call (it follows at once, on the core's queue).
    static let maxAge = 0.5
    /// Hints kept at most (one per submit commit or status read in flight; the oldest goes first).
    static let capacity = 64

    private struct Hint: Sendable {
        let queueOrder: Int64
        let spaceID: Int64
        let position: Int
        let readAt: Double
    }

    private let hints = Mutex<[Hint]>([])

    /// Notes that the queued request `queueOrder` of `spaceID` stood at `position` just now.
    func note(spaceID: Int64, queueOrder: Int64, position: Int) {
        let hint = Hint(queueOrder: queueOrder, spaceID: spaceID, position: position,
                        readAt: ProcessInfo.processInfo.systemUptime)
        self.hints.withLock { hints in
            hints.removeAll { $0.queueOrder == queueOrder }
            if hints.count >= Self.capacity { hints.removeFirst() }
            hints.append(hint)
        }
    }

    /// The position noted for `queueOrder` of `spaceID` when still fresh; the hint is used up either way.
    func take(spaceID: Int64, queueOrder: Int64) -> Int? {
        let now = ProcessInfo.processInfo.systemUptime
        return self.hints.withLock { hints in
            guard let index = hints.firstIndex(where: { $0.queueOrder == queueOrder && $0.spaceID == spaceID }) else {
                return nil
            }
            let hint = hints.remove(at: index)
            return now - hint.readAt < Self.maxAge ? hint.position : nil
        }
    }
}
