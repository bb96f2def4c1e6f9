import XCTest

@testable import Transport

/// The coarse timer wheel on its own, driven by made-up clock readings: a timer comes out no earlier than its
/// deadline and within one tick after it, cancelled timers never come out, and deadlines beyond the span are
/// refused (the loop keeps those on its heap).
final class TimerWheelTests: XCTestCase {
    private let tick = TimerWheel.tickNanos
    /// A clock reading far from zero and not on a tick boundary.
    private let start: UInt64 = 1_000_000 * TimerWheel.tickNanos + 12_345

    private func timer(at deadline: UInt64, _ fired: Counter? = nil) -> LoopTimer {
        LoopTimer(deadline: deadline, coarse: true) { fired?.value += 1 }
    }

    /// Pops every timer due at `now`.
    private func popAll(_ wheel: inout TimerWheel, now: UInt64) -> [LoopTimer] {
        var popped: [LoopTimer] = []
        while let timer = wheel.popDue(now: now) { popped.append(timer) }
        return popped
    }

    func testTimerComesOutAfterItsDeadlineAndWithinOneTick() throws {
        var wheel = TimerWheel(now: self.start)
        let deadline = self.start + 1_000_000_000
        let timer = self.timer(at: deadline)
        XCTAssertTrue(wheel.insert(timer, now: self.start))
        XCTAssertTrue(timer.isScheduled)
        XCTAssertEqual(wheel.count, 1)
        // The wheel asks to be woken no earlier than the deadline, and no later than a tick after it.
        let wake = try XCTUnwrap(wheel.earliestDeadline)
        XCTAssertGreaterThanOrEqual(wake, deadline)
        XCTAssertLessThanOrEqual(wake, deadline + self.tick)
        XCTAssertTrue(self.popAll(&wheel, now: deadline - 1).isEmpty, "came out before its deadline")
        XCTAssertTrue(self.popAll(&wheel, now: wake - 1).isEmpty)
        XCTAssertTrue(self.popAll(&wheel, now: wake).first === timer)
        XCTAssertFalse(timer.isScheduled)
        XCTAssertTrue(wheel.isEmpty)
        XCTAssertNil(wheel.earliestDeadline)
    }

    func testRemovedTimersNeverComeOutAndTheWakeupMovesOn() {
        var wheel = TimerWheel(now: self.start)
        let early = self.timer(at: self.start + 100_000_000)
        let sameSlot = self.timer(at: self.start + 100_000_000)
        let late = self.timer(at: self.start + 2_000_000_000)
        for timer in [early, sameSlot, late] { XCTAssertTrue(wheel.insert(timer, now: self.start)) }
        wheel.remove(early)
        wheel.remove(early)  // twice is harmless
        XCTAssertFalse(early.isScheduled)
        XCTAssertEqual(wheel.count, 2)
        let firstOut = self.popAll(&wheel, now: self.start + 200_000_000)
        XCTAssertEqual(firstOut.count, 1)
        XCTAssertTrue(firstOut.first === sameSlot)
        wheel.remove(late)
        XCTAssertTrue(wheel.isEmpty)
        XCTAssertNil(wheel.earliestDeadline)
        XCTAssertTrue(self.popAll(&wheel, now: self.start + 10_000_000_000).isEmpty)
    }

    func testAnEarlyWakeupAfterACancelFindsTheNextTimer() throws {
        var wheel = TimerWheel(now: self.start)
        let first = self.timer(at: self.start + 100_000_000)
        let second = self.timer(at: self.start + 3_000_000_000)
        XCTAssertTrue(wheel.insert(first, now: self.start))
        XCTAssertTrue(wheel.insert(second, now: self.start))
        wheel.remove(first)
        // The wheel still wakes at the first slot (a cheap lower bound), finds it empty, and moves on.
        let wake = try XCTUnwrap(wheel.earliestDeadline)
        XCTAssertLessThan(wake, self.start + 200_000_000)
        XCTAssertTrue(self.popAll(&wheel, now: wake).isEmpty)
        let next = try XCTUnwrap(wheel.earliestDeadline)
        XCTAssertGreaterThanOrEqual(next, second.deadline)
        XCTAssertLessThanOrEqual(next, second.deadline + self.tick)
    }

    func testDeadlinesBeyondTheSpanAreRefused() {
        var wheel = TimerWheel(now: self.start)
        let span = UInt64(TimerWheel.slotCount) * self.tick
        XCTAssertTrue(wheel.insert(self.timer(at: self.start + span - 2 * self.tick), now: self.start))
        let far = self.timer(at: self.start + span + self.tick)
        XCTAssertFalse(wheel.insert(far, now: self.start))
        XCTAssertFalse(far.isScheduled)
        XCTAssertEqual(wheel.count, 1)
    }

    /// Ten thousand timers over a minute, a third cancelled, drained by a clock that jumps by uneven steps:
    /// each comes out once, never early, at most a tick late, and in tick order.
    func testManyTimersComeOutOnceInTickOrder() {
        var wheel = TimerWheel(now: self.start)
        var generator = SplitMix64(seed: 16)
        var timers: [LoopTimer] = []
        for _ in 0..<10_000 {
            let timer = self.timer(at: self.start + generator.next() % 60_000_000_000)
            XCTAssertTrue(wheel.insert(timer, now: self.start))
            timers.append(timer)
        }
        var cancelled = Set<ObjectIdentifier>()
        for (index, timer) in timers.enumerated() where index % 3 == 0 {
            wheel.remove(timer)
            cancelled.insert(ObjectIdentifier(timer))
        }
        var seen = Set<ObjectIdentifier>()
        var lastDeadlineTick: UInt64 = 0
        var now = self.start
        while !wheel.isEmpty {
            now += generator.next() % (40 * self.tick)
            while let timer = wheel.popDue(now: now) {
                XCTAssertLessThanOrEqual(timer.deadline, now, "came out early")
                XCTAssertTrue(seen.insert(ObjectIdentifier(timer)).inserted, "came out twice")
                XCTAssertFalse(cancelled.contains(ObjectIdentifier(timer)), "a cancelled timer came out")
                XCTAssertGreaterThanOrEqual(timer.deadline / self.tick, lastDeadlineTick, "out of tick order")
                lastDeadlineTick = timer.deadline / self.tick
            }
            XCTAssertLessThan(now, self.start + 70_000_000_000, "timers left behind")
            if now >= self.start + 70_000_000_000 { break }
        }
        XCTAssertEqual(seen.count + cancelled.count, timers.count)
    }

    /// A clock that advanced in steps of a single tick: each timer is out within one tick of its deadline.
    func testLatenessIsAtMostOneTick() {
        var wheel = TimerWheel(now: self.start)
        var generator = SplitMix64(seed: 7)
        for _ in 0..<1_000 {
            XCTAssertTrue(wheel.insert(self.timer(at: self.start + generator.next() % 5_000_000_000), now: self.start))
        }
        var now = self.start
        while !wheel.isEmpty {
            now += self.tick / 3
            while let timer = wheel.popDue(now: now) {
                XCTAssertGreaterThanOrEqual(now, timer.deadline)
                XCTAssertLessThanOrEqual(now - timer.deadline, self.tick + self.tick / 3)
            }
        }
    }

    /// An action that runs as its timer comes out may re-arm it or arm others: they land in later ticks.
    func testTimersInsertedWhileDrainingWaitForTheirOwnTick() {
        var wheel = TimerWheel(now: self.start)
        let first = self.timer(at: self.start + 50_000_000)
        XCTAssertTrue(wheel.insert(first, now: self.start))
        let now = self.start + 100_000_000
        let popped = wheel.popDue(now: now)
        XCTAssertTrue(popped === first)
        // Re-armed from "inside" its action with the same delay, and a zero delay one.
        first.reset(deadline: now + 50_000_000)
        XCTAssertTrue(wheel.insert(first, now: now))
        let immediate = self.timer(at: now)
        XCTAssertTrue(wheel.insert(immediate, now: now))
        XCTAssertNil(wheel.popDue(now: now), "a timer armed at `now` came out in the same pass")
        XCTAssertTrue(self.popAll(&wheel, now: now + self.tick).first === immediate)
        XCTAssertTrue(self.popAll(&wheel, now: now + 50_000_000 + self.tick).first === first)
    }

    /// The wheel's index fits in the padding of a timer: an idle connection keeps its heartbeat timer, which
    /// stays in the malloc size class it had before the wheel.
    func testTimerStaysInItsMallocSizeClass() {
        let timer = self.timer(at: self.start)
        let usable = mallocUsableSize(Unmanaged.passUnretained(timer).toOpaque())
        XCTAssertLessThanOrEqual(usable, 56)
    }

    func testRemoveAllActionsEmptiesTheWheel() {
        var wheel = TimerWheel(now: self.start)
        let fired = Counter()
        let timers = (1...50).map { self.timer(at: self.start + UInt64($0) * 100_000_000, fired) }
        for timer in timers { XCTAssertTrue(wheel.insert(timer, now: self.start)) }
        let actions = wheel.removeAllActions()
        XCTAssertEqual(actions.count, 50)
        XCTAssertTrue(wheel.isEmpty)
        XCTAssertTrue(timers.allSatisfy { !$0.isScheduled })
        XCTAssertEqual(fired.value, 0)
    }
}

/// glibc's `malloc_usable_size` (declared in <malloc.h>, which the Glibc module leaves out).
@_silgen_name("malloc_usable_size")
private func mallocUsableSize(_ pointer: UnsafeMutableRawPointer) -> Int

private final class Counter {
    var value = 0
}
