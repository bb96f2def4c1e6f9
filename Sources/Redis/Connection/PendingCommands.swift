/// What a command's sender gets: the reply, or why there is none. Runs on the client's loop.
public typealias RedisCompletion = @Sendable (Result<RESPValue, any Error>) -> Void

/// A command written to the server whose reply has not arrived.
struct PendingCommand {
    /// Nil for fire-and-forget commands, and once the command timed out (its late reply is dropped).
    var completion: RedisCompletion?
    /// Monotonic nanoseconds after which the command fails with `commandTimeout`; 0 for none.
    var deadline: UInt64
}

/// The commands in flight on one connection, oldest first: Redis answers in order, so each reply belongs to
/// the oldest. An array with a moving head: pushing and popping are O(1) amortised and reuse the storage.
struct PendingCommands {
    private var items: [PendingCommand] = []
    private var head = 0

    var count: Int { self.items.count - self.head }
    var isEmpty: Bool { self.head == self.items.count }

    mutating func append(_ command: PendingCommand) {
        self.items.append(command)
    }

    /// The command at `offset` from the oldest.
    subscript(offset: Int) -> PendingCommand {
        get { self.items[self.head + offset] }
        set { self.items[self.head + offset] = newValue }
    }

    mutating func popFirst() -> PendingCommand? {
        guard self.head < self.items.count else { return nil }
        let first = self.items[self.head]
        self.head += 1
        if self.head == self.items.count {
            self.items.removeAll(keepingCapacity: self.items.capacity <= 65_536)
            self.head = 0
        } else if self.head >= 1024 && self.head * 2 >= self.items.count {
            self.items.removeSubrange(0..<self.head)
            self.head = 0
        }
        return first
    }

    /// Empties the queue, returning what was in it (oldest first).
    mutating func removeAll() -> ArraySlice<PendingCommand> {
        let rest = self.items[self.head...]
        self.items = []
        self.head = 0
        return rest
    }
}
