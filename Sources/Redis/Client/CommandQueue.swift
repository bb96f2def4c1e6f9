import Transport

/// Commands waiting for a connection (before the first connect, while reconnecting), encoded and in order,
/// bounded by `maxQueuedCommands`. Each keeps the deadline it got when sent: a command that waits longer than
/// its timeout fails with `.commandTimeout` and is never sent. Loop-confined.
struct CommandQueue {
    struct Entry {
        var bytes: [UInt8]
        var completion: RedisCompletion?
        var deadline: UInt64
    }

    private var entries: [Entry] = []
    private var head = 0

    var count: Int { self.entries.count - self.head }
    var isEmpty: Bool { self.head == self.entries.count }

    /// The deadline of the oldest entry, if it has one.
    var firstDeadline: UInt64? {
        guard self.head < self.entries.count else { return nil }
        let deadline = self.entries[self.head].deadline
        return deadline == 0 ? nil : deadline
    }

    mutating func append(_ entry: Entry) {
        self.entries.append(entry)
    }

    /// Removes the entries whose deadline passed (they are at the front: deadlines grow with the order).
    mutating func removeExpired(now: UInt64) -> [Entry] {
        var expired: [Entry] = []
        while self.head < self.entries.count, self.entries[self.head].deadline != 0, self.entries[self.head].deadline <= now {
            expired.append(self.entries[self.head])
            self.head += 1
        }
        if self.head == self.entries.count {
            self.entries.removeAll()
            self.head = 0
        }
        return expired
    }

    /// Empties the queue, returning the entries oldest first.
    mutating func removeAll() -> ArraySlice<Entry> {
        let rest = self.entries[self.head...]
        self.entries = []
        self.head = 0
        return rest
    }
}
