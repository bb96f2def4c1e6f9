import Foundation
import Synchronization
import XCTest

@testable import Transport

/// `EventLoop.cancel(_:)` with an optional: a cancelled timer that nothing else holds serves the loop's next
/// `schedule` (a new connection arms and cancels timeouts within milliseconds); one still held elsewhere is
/// never handed out again, and a reused timer runs only its new action.
final class TimerReuseTests: XCTestCase {
    func testTimerHeldByNoOneElseServesTheNextScheduleWithOnlyItsNewAction() throws {
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdown(timeoutSeconds: 5) }
        let loop = group.loops[0]
        let ran = Mutex<[String]>([])
        let outcome = Mutex<(cleared: Bool, reused: Bool, coarse: Bool)?>(nil)
        self.runOnLoop(loop) {
            var timer: LoopTimer? = loop.scheduleCoarse(afterMillis: 10) { ran.withLock { $0.append("old") } }
            let first = timer.map(ObjectIdentifier.init)
            loop.cancel(&timer)
            let next = loop.schedule(afterMillis: 30) { ran.withLock { $0.append("new") } }
            outcome.withLock { $0 = (timer == nil, ObjectIdentifier(next) == first, next.isCoarse) }
        }
        let result = try XCTUnwrap(outcome.withLock { $0 })
        XCTAssertTrue(result.cleared, "the owner's reference is taken")
        XCTAssertTrue(result.reused, "the cancelled timer serves the next schedule")
        XCTAssertFalse(result.coarse, "a reused timer takes the kind of its new schedule")
        XCTAssertTrue(TestDeadline.wait(timeout: 5, until: { ran.withLock { $0 } == ["new"] }))
        // The old action's deadline has long passed: it must not have run, now or later.
        Thread.sleep(forTimeInterval: 0.05)
        XCTAssertEqual(ran.withLock { $0 }, ["new"])
    }

    func testTimerStillHeldElsewhereIsNeverHandedOutAgain() throws {
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdown(timeoutSeconds: 5) }
        let loop = group.loops[0]
        let ran = Mutex<[String]>([])
        let outcome = Mutex<(distinct: Bool, oldScheduled: Bool)?>(nil)
        self.runOnLoop(loop) {
            var timer: LoopTimer? = loop.scheduleCoarse(afterMillis: 10) { ran.withLock { $0.append("old") } }
            let kept = timer
            loop.cancel(&timer)
            let next = loop.scheduleCoarse(afterMillis: 30) { ran.withLock { $0.append("new") } }
            outcome.withLock { $0 = (kept !== next, kept?.isScheduled ?? true) }
        }
        let result = try XCTUnwrap(outcome.withLock { $0 })
        XCTAssertTrue(result.distinct, "a timer someone still holds is not reused")
        XCTAssertFalse(result.oldScheduled)
        XCTAssertTrue(TestDeadline.wait(timeout: 5, until: { ran.withLock { $0 } == ["new"] }))
    }
}
