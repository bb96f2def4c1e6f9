import Glibc

/// The connections of one loop whose peers are behind (the kernel refused bytes at their last send), and
/// the bytes they hold. Loop thread only.
final class LoopBacklog {
    private let budget: OutputBudget
    private let slot: OutputBudget.Slot
    private var connections: [TCPConnection] = []
    /// Bytes held by `connections` (as last counted by each).
    private(set) var bytes = 0

    init(budget: OutputBudget, index: Int) {
        self.budget = budget
        self.slot = budget.slot(index)
    }

    /// Number of connections that are behind.
    var count: Int { self.connections.count }

    func add(_ connection: TCPConnection) {
        guard connection.backlogIndex < 0 else { return }
        connection.backlogIndex = self.connections.count
        self.connections.append(connection)
    }

    /// Takes `connection` off the list and its bytes off the count.
    func remove(_ connection: TCPConnection) {
        self.charge(-connection.accountedBacklog)
        connection.accountedBacklog = 0
        let index = connection.backlogIndex
        guard index >= 0, index < self.connections.count, self.connections[index] === connection else { return }
        let last = self.connections.removeLast()
        if index < self.connections.count {
            self.connections[index] = last
            last.backlogIndex = index
        }
        connection.backlogIndex = -1
        if self.connections.isEmpty { self.connections = [] }
    }

    /// Adds `delta` bytes to this loop's count and publishes it.
    func charge(_ delta: Int) {
        guard delta != 0 else { return }
        self.bytes += delta
        self.slot.bytes.store(self.bytes, ordering: .relaxed)
    }

    /// True when the group is over its limit and this loop holds more than its share.
    var isOverBudget: Bool {
        let limit = self.budget.limit
        guard limit > 0, self.bytes > self.budget.share else { return false }
        return self.budget.totalBytes > limit
    }

    /// Closes the connections with the largest backlogs until the group is comfortably under its limit
    /// (an eighth below, so that the next few writes do not start over) or this loop within its share.
    func shed() {
        let limit = self.budget.limit
        guard limit > 0 else { return }
        let targetTotal = limit - limit / 8, share = self.budget.share
        let targetOwn = share - share / 8
        let largestFirst = self.connections.sorted { $0.pendingOutputBytes > $1.pendingOutputBytes }
        for connection in largestFirst {
            guard self.bytes > targetOwn, self.budget.totalBytes > targetTotal else { return }
            connection.close(error: ENOBUFS)
        }
    }
}
