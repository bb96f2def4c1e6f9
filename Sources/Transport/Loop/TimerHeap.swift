/// A timer scheduled on an event loop. Cancel it from the loop's thread only.
public final class LoopTimer: @unchecked Sendable {
    // Loop-confined: created, fired and cancelled on the owning loop's thread.
    fileprivate(set) var deadline: UInt64
    fileprivate var action: (() -> Void)?
    fileprivate var heapIndex: Int = -1
    /// Run when the loop stops before the deadline, instead of being dropped (see `EventLoop.scheduleDeadline`).
    fileprivate(set) var firesOnStop = false
    /// Kept on the loop's coarse timer wheel when its deadline is within the wheel's span (see
    /// `EventLoop.scheduleCoarse`); `reschedule` keeps it there.
    let isCoarse: Bool
    /// The timer's index in its wheel slot (see TimerWheel.swift), or -1 when it is not on the wheel. 32 bits,
    /// in the padding after the flags: a timer stays within 56 bytes, the malloc size class it had before
    /// the wheel (an idle connection keeps its heartbeat timer).
    var wheelIndex: Int32 = -1

    init(deadline: UInt64, coarse: Bool = false, action: @escaping () -> Void) {
        self.deadline = deadline
        self.isCoarse = coarse
        self.action = action
    }

    /// Whether the timer is still waiting to fire.
    public var isScheduled: Bool { self.heapIndex >= 0 || self.wheelIndex >= 0 }
}

/// A binary min-heap of timers ordered by deadline, with O(log n) removal through each timer's index.
struct TimerHeap {
    private var items: [LoopTimer] = []

    var isEmpty: Bool { self.items.isEmpty }
    var count: Int { self.items.count }
    var earliestDeadline: UInt64? { self.items.isEmpty ? nil : self.items[0].deadline }

    mutating func insert(_ timer: LoopTimer) {
        timer.heapIndex = self.items.count
        self.items.append(timer)
        self.siftUp(self.items.count - 1)
    }

    mutating func remove(_ timer: LoopTimer) {
        let index = timer.heapIndex
        guard index >= 0, index < self.items.count, self.items[index] === timer else { return }
        let last = self.items.count - 1
        if index != last {
            self.swapAt(index, last)
        }
        self.items.removeLast()
        timer.heapIndex = -1
        if index < self.items.count {
            self.siftDown(index)
            self.siftUp(index)
        }
    }

    /// Takes every timer off the heap and returns their actions (for a loop that has ended: the caller drops
    /// them, and with them whatever they captured).
    mutating func removeAllActions() -> [() -> Void] {
        var actions: [() -> Void] = []
        for timer in self.items {
            timer.heapIndex = -1
            if let action = timer.action { actions.append(action) }
            timer.action = nil
        }
        self.items = []
        return actions
    }

    /// Takes the timers that fire on stop off the heap and returns their actions, in deadline order.
    mutating func removeFiringOnStop() -> [() -> Void] {
        let firing = self.items.filter { $0.firesOnStop }.sorted { $0.deadline < $1.deadline }
        return firing.compactMap { timer in
            self.remove(timer)
            return timer.takeAction()
        }
    }

    /// Removes and returns the earliest timer if it is due at `now`.
    mutating func popDue(now: UInt64) -> LoopTimer? {
        guard !self.items.isEmpty, self.items[0].deadline <= now else { return nil }
        let first = self.items[0]
        self.remove(first)
        return first
    }

    private mutating func swapAt(_ a: Int, _ b: Int) {
        self.items.swapAt(a, b)
        self.items[a].heapIndex = a
        self.items[b].heapIndex = b
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard self.items[child].deadline < self.items[parent].deadline else { return }
            self.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        let n = self.items.count
        while true {
            let left = 2 * parent + 1
            guard left < n else { return }
            var smallest = left
            let right = left + 1
            if right < n && self.items[right].deadline < self.items[left].deadline { smallest = right }
            guard self.items[smallest].deadline < self.items[parent].deadline else { return }
            self.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

extension LoopTimer {
    /// Takes the action out so that a fired timer releases what it captured.
    func takeAction() -> (() -> Void)? {
        let action = self.action
        self.action = nil
        return action
    }

    func reset(deadline: UInt64) { self.deadline = deadline }
    func setAction(_ action: @escaping () -> Void) { self.action = action }
    func fireOnStop() { self.firesOnStop = true }
}
