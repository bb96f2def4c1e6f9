import Dispatch

/// Threads that commit submissions off the core's queue (PostgreSQL). A durable commit waits for PostgreSQL to
/// flush its WAL (milliseconds on a slow disk); on the core's queue every dispatch and result of every space
/// would wait behind it. A few serial lanes let commits overlap (PostgreSQL flushes concurrent commits in one
/// write) while the threads stay few; each lane has a connection of its own in `PostgresStore.submissions`.
final class SubmissionCommits: @unchecked Sendable {
    // Invariant for @unchecked Sendable: `waiting` is read and written on the core's queue only; the lanes are
    // serial queues and hold no state.

    /// Lanes, and connections of the store's submission pool.
    static let laneCount = 3
    /// Commits waiting or running at most; more submissions are refused with 503 until some finish (a database
    /// that stopped answering must not pile up requests without bound).
    static let maxWaiting = 512

    private let lanes: [DispatchQueue]
    /// Commits waiting or running per lane.
    private var waiting: [Int]

    init() {
        self.lanes = (0..<Self.laneCount).map { DispatchQueue(label: "spaces.submit-commit.\($0)", qos: .userInitiated) }
        self.waiting = Array(repeating: 0, count: Self.laneCount)
    }

    /// On the core's queue: runs `commit` on the lane with the fewest commits waiting, with that lane's number
    /// (for `finished`, on the core's queue, once the commit is done). False when `maxWaiting` are waiting.
    func start(_ commit: @escaping @Sendable (_ lane: Int) -> Void) -> Bool {
        guard self.waiting.reduce(0, +) < Self.maxWaiting,
              let lane = self.waiting.indices.min(by: { self.waiting[$0] < self.waiting[$1] }) else { return false }
        self.waiting[lane] += 1
        self.lanes[lane].async { commit(lane) }
        return true
    }

    /// On the core's queue: whether no commit is waiting or running (a stopping server waits for this, so that
    /// what it answered 200 is handed to the cluster before it leaves).
    var isIdle: Bool { self.waiting.allSatisfy { $0 == 0 } }

    /// On the core's queue: a commit of `lane` is done.
    func finished(lane: Int) {
        self.waiting[lane] = max(0, self.waiting[lane] - 1)
    }
}
