/// The queued requests of one space, kept sorted by queue order (smallest first).
///
/// New requests get the largest order and go last; requests that come back from a lost worker keep their
/// order, which is smaller than any still queued (dispatch always takes the head), so they return to the head.
struct RequestFIFO: Sendable {
    private var entries: [(order: Int64, id: String)] = []
    private var head = 0

    var count: Int { self.entries.count - self.head }
    var isEmpty: Bool { self.count == 0 }

    /// Ids in dispatch order.
    var ids: [String] { self.entries[self.head...].map(\.id) }

    /// Inserts keeping the order sorted (appending is the common case).
    mutating func insert(id: String, order: Int64) {
        if self.count == 0 || self.entries[self.entries.count - 1].order < order {
            self.entries.append((order, id))
            return
        }
        let index = self.lowerBound(order)
        self.entries.insert((order, id), at: index)
    }

    /// Takes the head.
    mutating func popFirst() -> String? {
        guard self.head < self.entries.count else { return nil }
        let id = self.entries[self.head].id
        self.head += 1
        if self.head > 1024 && self.head * 2 > self.entries.count {
            self.entries.removeFirst(self.head)
            self.head = 0
        }
        return id
    }

    /// Removes a request (canceled); returns whether it was there.
    @discardableResult
    mutating func remove(id: String, order: Int64) -> Bool {
        var index = self.lowerBound(order)
        while index < self.entries.count && self.entries[index].order == order {
            if self.entries[index].id == id {
                self.entries.remove(at: index)
                return true
            }
            index += 1
        }
        return false
    }

    /// 1-based position of the request, or nil when it is not queued here.
    func position(id: String, order: Int64) -> Int? {
        var index = self.lowerBound(order)
        while index < self.entries.count && self.entries[index].order == order {
            if self.entries[index].id == id { return index - self.head + 1 }
            index += 1
        }
        return nil
    }

    private func lowerBound(_ order: Int64) -> Int {
        var low = self.head, high = self.entries.count
        while low < high {
            let mid = (low + high) / 2
            if self.entries[mid].order < order { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
