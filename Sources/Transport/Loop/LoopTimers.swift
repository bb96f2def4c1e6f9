/// The timers of one event loop: exact ones on a heap ordered by deadline, coarse ones (`isCoarse`) on a
/// timing wheel, where arming and disarming cost a few steps however many connections there are.
/// Loop thread only.
struct LoopTimers {
    private var heap = TimerHeap()
    private var wheel: TimerWheel

    init() {
        self.wheel = TimerWheel(now: monotonicNanos())
    }

    var isEmpty: Bool { self.heap.isEmpty && self.wheel.isEmpty }

    /// The earliest time a timer may be due: a wheel slot may turn out empty once reached (cancelled timers),
    /// which costs one early wakeup.
    var earliestDeadline: UInt64? {
        guard let wheelDeadline = self.wheel.earliestDeadline else { return self.heap.earliestDeadline }
        guard let heapDeadline = self.heap.earliestDeadline else { return wheelDeadline }
        return min(heapDeadline, wheelDeadline)
    }

    /// Schedules `timer` (not scheduled yet) at its deadline, computed from the clock reading `now`.
    mutating func insert(_ timer: LoopTimer, now: UInt64) {
        // A deadline that must run when the loop stops stays on the heap, which `removeFiringOnStop` searches.
        if timer.isCoarse && !timer.firesOnStop && self.wheel.insert(timer, now: now) { return }
        self.heap.insert(timer)
    }

    /// Takes `timer` off the schedule; harmless when it is not on it.
    mutating func remove(_ timer: LoopTimer) {
        if timer.wheelIndex >= 0 {
            self.wheel.remove(timer)
        } else {
            self.heap.remove(timer)
        }
    }

    /// Removes and returns a timer that is due at `now`.
    mutating func popDue(now: UInt64) -> LoopTimer? {
        if let timer = self.heap.popDue(now: now) { return timer }
        guard self.wheel.mayHaveDue(now: now) else { return nil }
        return self.wheel.popDue(now: now)
    }

    /// Takes every timer off the schedule and returns their actions (for a loop that has ended).
    mutating func removeAllActions() -> [() -> Void] {
        self.heap.removeAllActions() + self.wheel.removeAllActions()
    }

    /// Takes the timers that fire on stop off the schedule and returns their actions, in deadline order.
    mutating func removeFiringOnStop() -> [() -> Void] {
        self.heap.removeFiringOnStop()
    }
}
