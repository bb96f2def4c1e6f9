import Foundation
import Synchronization
import XCTest

@testable import Transport

/// Coarse timers (`EventLoop.scheduleCoarse`) on a running loop: they fire no earlier than their delay and
/// within the documented slack after it, cancelling and re-arming work as for exact timers, and a loop that
/// stops drops them unrun, as it drops plain timers.
final class CoarseTimerTests: XCTestCase {
    /// Room for a loaded machine (the suite runs beside builds and benchmarks) on top of the wheel's slack.
    private static let schedulingAllowance: TimeInterval = 0.5

    /// Runs `body` on the loop's thread and waits for it.
    private func onLoop(_ loop: EventLoop, _ body: @escaping @Sendable () -> Void) {
        let done = DispatchSemaphore(value: 0)
        loop.execute {
            body()
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success)
    }

    func testFiresNoEarlierThanItsDelayAndWithinTheSlack() throws {
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdown(timeoutSeconds: 5) }
        let loop = group.loops[0]
        let delays = [0, 5, 40, 150, 300]
        let fired = Mutex<[Int: (scheduled: UInt64, ran: UInt64)]>([:])
        self.onLoop(loop) {
            for delay in delays {
                let scheduled = monotonicNanos()
                loop.scheduleCoarse(afterMillis: delay) {
                    let ran = monotonicNanos()
                    fired.withLock { $0[delay] = (scheduled, ran) }
                }
            }
        }
        XCTAssertTrue(TestDeadline.wait(timeout: 5, until: { fired.withLock { $0.count } == delays.count }))
        let slackNanos = UInt64(EventLoop.coarseTimerSlackMillis) * 1_000_000
        for (delay, times) in fired.withLock({ $0 }) {
            let elapsed = times.ran - times.scheduled
            XCTAssertGreaterThanOrEqual(elapsed, UInt64(delay) * 1_000_000, "a \(delay) ms timer fired early")
            XCTAssertLessThanOrEqual(elapsed, UInt64(delay) * 1_000_000 + slackNanos
                + UInt64(Self.schedulingAllowance * 1e9), "a \(delay) ms timer fired late")
        }
    }

    func testCancelledTimerNeverFiresAndReleasesItsAction() throws {
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdown(timeoutSeconds: 5) }
        let loop = group.loops[0]
        let ran = Mutex<[String]>([])
        let flag = ReleaseFlag()
        self.onLoop(loop) {
            let captured = Captured(flag)
            let cancelled = loop.scheduleCoarse(afterMillis: 20) { ran.withLock { $0.append("cancelled \(captured)") } }
            loop.scheduleCoarse(afterMillis: 60) { ran.withLock { $0.append("kept") } }
            XCTAssertTrue(cancelled.isScheduled)
            loop.cancel(cancelled)
            XCTAssertFalse(cancelled.isScheduled)
        }
        XCTAssertTrue(TestDeadline.wait(timeout: 5, until: { ran.withLock { $0 } == ["kept"] }))
        XCTAssertTrue(flag.isReleased, "a cancelled coarse timer still holds what its action captured")
    }

    /// `reschedule` keeps a coarse timer coarse and moves its deadline; `disarm` keeps its action for later.
    func testRescheduleAndDisarm() throws {
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdown(timeoutSeconds: 5) }
        let loop = group.loops[0]
        let fired = Mutex<[UInt64]>([])
        let started = Mutex<UInt64>(0)
        self.onLoop(loop) {
            started.withLock { $0 = monotonicNanos() }
            let timer = loop.scheduleCoarse(afterMillis: 10) { fired.withLock { $0.append(monotonicNanos()) } }
            loop.reschedule(timer, afterMillis: 200)
            XCTAssertTrue(timer.isCoarse)
            XCTAssertTrue(timer.isScheduled)
            loop.disarm(timer)
            XCTAssertFalse(timer.isScheduled)
            loop.reschedule(timer, afterMillis: 120)
        }
        XCTAssertTrue(TestDeadline.wait(timeout: 5, until: { fired.withLock { $0.count } == 1 }))
        let elapsed = (fired.withLock { $0[0] }) - started.withLock { $0 }
        XCTAssertGreaterThanOrEqual(elapsed, 120_000_000, "the re-armed timer fired early")
        // It fired once, at its last deadline: give a stray second firing time to show.
        let stray = DispatchSemaphore(value: 0)
        loop.scheduleOnLoop(afterMillis: 150) { stray.signal() }
        XCTAssertEqual(stray.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(fired.withLock { $0.count }, 1)
    }

    /// Thousands of timers armed, most cancelled, some re-armed from their own actions: each remaining one
    /// fires once.
    func testManyTimersFireOnceEach() throws {
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdown(timeoutSeconds: 5) }
        let loop = group.loops[0]
        let count = 5_000
        let fired = Mutex<[Int]>(Array(repeating: 0, count: count))
        self.onLoop(loop) {
            var timers: [LoopTimer] = []
            for index in 0..<count {
                timers.append(loop.scheduleCoarse(afterMillis: 1 + index % 400) {
                    fired.withLock { $0[index] += 1 }
                })
            }
            for index in stride(from: 0, to: count, by: 2) { loop.cancel(timers[index]) }
            // A few re-arm another timer from inside their action, as a heartbeat does.
            for index in stride(from: 1, to: 100, by: 2) {
                let timer = timers[index]
                loop.reschedule(timer, afterMillis: 30) {
                    fired.withLock { $0[index] += 1 }
                    loop.reschedule(timer, afterMillis: 30) { fired.withLock { $0[index] += 1 } }
                }
            }
        }
        let expected = (0..<count).map { $0 % 2 == 0 ? 0 : ($0 < 100 ? 2 : 1) }
        XCTAssertTrue(TestDeadline.wait(timeout: 10, until: { fired.withLock { $0 } == expected }))
        // Nothing fires twice later on.
        let quiet = DispatchSemaphore(value: 0)
        loop.scheduleOnLoop(afterMillis: 200) { quiet.signal() }
        XCTAssertEqual(quiet.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(fired.withLock { $0 }, expected)
    }

    /// A stopping loop drops pending coarse timers unrun and lets go of their captures, as it does plain
    /// timers; deadlines (`scheduleDeadline`) still run.
    func testStoppedLoopDropsCoarseTimers() throws {
        let group = try EventLoopGroup(loopCount: 1)
        let loop = group.loops[0]
        let ran = Mutex<[String]>([])
        let flag = ReleaseFlag()
        self.onLoop(loop) {
            let captured = Captured(flag)
            loop.scheduleCoarse(afterMillis: 30_000) { ran.withLock { $0.append("coarse \(captured)") } }
            loop.scheduleCoarse(afterMillis: 300_000) { ran.withLock { $0.append("coarse beyond the wheel") } }
            loop.schedule(afterMillis: 30_000) { ran.withLock { $0.append("timer") } }
            loop.scheduleDeadline(afterMillis: 30_000) { ran.withLock { $0.append("deadline") } }
        }
        group.shutdown(timeoutSeconds: 5)
        XCTAssertEqual(ran.withLock { $0 }, ["deadline"])
        XCTAssertTrue(flag.isReleased, "the stopped loop still holds a coarse timer's action")
    }
}

/// Set when the `Captured` holding it is freed.
private final class ReleaseFlag: Sendable {
    let released = Mutex(false)
    var isReleased: Bool { self.released.withLock { $0 } }
}

private final class Captured: Sendable, CustomStringConvertible {
    let flag: ReleaseFlag
    init(_ flag: ReleaseFlag) { self.flag = flag }
    deinit { self.flag.released.withLock { $0 = true } }
    var description: String { "captured" }
}

extension EventLoop {
    /// Schedules from any thread (the test's): hops to the loop first.
    fileprivate func scheduleOnLoop(afterMillis delay: Int, _ action: @escaping @Sendable () -> Void) {
        self.execute { self.schedule(afterMillis: delay, action) }
    }
}
