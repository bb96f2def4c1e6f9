/// A hashed timing wheel for coarse timers: one slot per tick of `tickNanos`, each slot an unordered array of
/// the timers due in that tick, each timer knowing its index there. Inserting is an append and removing a
/// swap with the slot's last timer, with no reordering whatever the number of timers: per-connection timeouts
/// (header timeout, heartbeat, connect timeout) are armed and disarmed on every connection and almost never
/// fire. Slots keep a little capacity, so a steady load rarely allocates; the timers themselves stay as small
/// as heap timers (an index, no links), which matters for idle connections.
///
/// A timer due at `deadline` sits in the slot of the first tick that starts after it, so it fires no
/// earlier than its deadline and at most one tick after it (plus the loop's own latency). Timers further
/// out than the wheel spans are refused (`insert` returns false) and go on the exact heap instead.
struct TimerWheel {
    /// One tick is 2^24 ns, about 16.8 ms.
    static let tickShift: UInt64 = 24
    static let tickNanos: UInt64 = 1 << tickShift
    /// 4,096 ticks: the wheel spans about 68.7 s.
    static let slotCount = 4096
    private static let slotMask = UInt64(slotCount - 1)

    /// The slots; empty until the first insert, so loops without coarse timers hold nothing.
    private var slots: [[LoopTimer]] = []
    /// One bit per slot that holds a timer, to find the next occupied slot without walking every slot.
    private var occupied: [UInt64] = []
    /// The last tick whose slot was run; every timer on the wheel is due in a later tick, less than
    /// `slotCount` ticks after it, so each slot holds the timers of one tick only.
    private var processedTick: UInt64
    /// No later than the earliest tick that holds a timer (`UInt64.max` when there is none). Removal leaves
    /// it early, which costs at most one needless wakeup; `popDue` makes it exact again.
    private var nextTick: UInt64 = .max
    private(set) var count = 0

    init(now: UInt64) {
        self.processedTick = now >> Self.tickShift
    }

    var isEmpty: Bool { self.count == 0 }

    /// When the earliest slot that may hold a timer is run, or nil when the wheel is empty.
    var earliestDeadline: UInt64? {
        self.count == 0 ? nil : self.nextTick << Self.tickShift
    }

    /// Puts `timer` (not scheduled anywhere) in the slot for its deadline; false when the deadline lies beyond
    /// the span of the wheel. `now` is the clock reading the deadline was computed from.
    mutating func insert(_ timer: LoopTimer, now: UInt64) -> Bool {
        // Slots before `nextTick` are empty, so the wheel may catch up with the clock without running any.
        let caughtUp = min(now >> Self.tickShift, self.nextTick &- 1)
        if caughtUp > self.processedTick { self.processedTick = caughtUp }
        let tick = (timer.deadline >> Self.tickShift) &+ 1
        guard tick > self.processedTick, tick &- self.processedTick < UInt64(Self.slotCount) else { return false }
        if self.slots.isEmpty {
            self.slots = Array(repeating: [], count: Self.slotCount)
            self.occupied = Array(repeating: 0, count: Self.slotCount / 64)
        }
        let slot = Int(tick & Self.slotMask)
        timer.wheelIndex = Int32(truncatingIfNeeded: self.slots[slot].count)
        self.slots[slot].append(timer)
        self.occupied[slot >> 6] |= 1 << UInt64(slot & 63)
        self.count += 1
        if tick < self.nextTick { self.nextTick = tick }
        return true
    }

    /// Takes `timer` out of its slot; harmless when it is not on the wheel. Its deadline has not changed
    /// since `insert` (`EventLoop.reschedule` removes first), so it names the slot.
    mutating func remove(_ timer: LoopTimer) {
        let index = Int(timer.wheelIndex)
        guard index >= 0 else { return }
        let slot = Self.slot(of: timer)
        let last = self.slots[slot].count - 1
        if index != last {
            let moved = self.slots[slot][last]
            moved.wheelIndex = Int32(truncatingIfNeeded: index)
            self.slots[slot][index] = moved
        }
        self.slots[slot].removeLast()
        timer.wheelIndex = -1
        if last == 0 { self.emptied(slot) }
        self.count -= 1
    }

    /// Marks `slot` empty, and frees its storage when a burst left it large: the timers armed and cancelled
    /// while a burst of connections came (header and connect timeouts) would otherwise keep their room for
    /// the idle connections that stay.
    private mutating func emptied(_ slot: Int) {
        self.occupied[slot >> 6] &= ~(1 << UInt64(slot & 63))
        if self.slots[slot].capacity > Self.keptSlotCapacity { self.slots[slot] = [] }
    }

    /// Room a slot keeps for later ticks once emptied: enough for a steady trickle of timers.
    private static let keptSlotCapacity = 16

    @inline(__always)
    private static func slot(of timer: LoopTimer) -> Int {
        Int(((timer.deadline >> Self.tickShift) &+ 1) & Self.slotMask)
    }

    /// True when a timer on the wheel may be due at `now`: the cheap test the loop makes every iteration.
    @inline(__always)
    func mayHaveDue(now: UInt64) -> Bool {
        self.count > 0 && (now >> Self.tickShift) >= self.nextTick
    }

    /// Takes the next timer that is due at `now` off the wheel, running the slots up to `now` in tick order
    /// (within a tick, in no particular order); nil once none is left. An action that runs meanwhile may
    /// remove timers, and schedules new ones only in later ticks (see `insert`), so this ends.
    mutating func popDue(now: UInt64) -> LoopTimer? {
        let currentTick = now >> Self.tickShift
        while true {
            guard self.count > 0, currentTick >= self.nextTick else {
                if self.count == 0 { self.nextTick = .max }
                return nil
            }
            // Every timer on the wheel is due at `processedTick` (the slot being run) or later.
            let slot = Int(self.processedTick & Self.slotMask)
            if let timer = self.slots[slot].popLast() {
                timer.wheelIndex = -1
                if self.slots[slot].isEmpty { self.emptied(slot) }
                self.count -= 1
                return timer
            }
            let found = self.nextOccupiedTick()
            guard let next = found, next <= currentTick else {
                // Nothing is due before that tick: the slots up to now are empty and count as run.
                self.processedTick = max(self.processedTick, currentTick)
                self.nextTick = found ?? .max
                return nil
            }
            self.processedTick = next
            self.nextTick = next
        }
    }

    /// The earliest tick after `processedTick` whose slot holds a timer.
    private func nextOccupiedTick() -> UInt64? {
        guard self.count > 0 else { return nil }
        let start = Int((self.processedTick &+ 1) & Self.slotMask)
        let words = self.occupied.count
        // Look at the word holding `start` (from `start` on), every other word, then the same word's bits
        // before `start`, which come a full turn later.
        var word = start >> 6
        var bits = self.occupied[word] & (~0 << UInt64(start & 63))
        for step in 0...words {
            if bits != 0 {
                let slot = (word << 6) | bits.trailingZeroBitCount
                let distance = (slot - start + Self.slotCount) & Int(Self.slotMask)
                return self.processedTick &+ 1 &+ UInt64(distance)
            }
            guard step < words else { break }
            word = (word + 1) % words
            bits = self.occupied[word]
        }
        return nil
    }

    /// Takes every timer off the wheel and returns their actions (for a loop that has ended).
    mutating func removeAllActions() -> [() -> Void] {
        var actions: [() -> Void] = []
        for slot in self.slots.indices {
            for timer in self.slots[slot] {
                timer.wheelIndex = -1
                if let action = timer.takeAction() { actions.append(action) }
            }
            self.slots[slot] = []
        }
        for word in self.occupied.indices { self.occupied[word] = 0 }
        self.count = 0
        self.nextTick = .max
        return actions
    }
}
