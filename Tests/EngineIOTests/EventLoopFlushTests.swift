import Foundation
import Synchronization
import XCTest

@testable import Transport

/// The end-of-iteration flush: every target scheduled in one iteration is flushed once before the loop waits
/// again, including targets that a flush schedules (an Engine.IO session writes to its connection, which
/// then flushes), however many there are.
final class EventLoopFlushTests: XCTestCase {
    /// Records its flushes; `then` schedules more from inside the flush.
    private final class Log: Sendable {
        let names = Mutex<[Int]>([])
    }

    /// Records its flushes in `log`; `then` schedules more from inside the flush.
    private final class Target: EventLoopFlushable, @unchecked Sendable {
        // Invariant for @unchecked Sendable: `then` is set before the target is shared, and only the loop
        // thread calls `flushNow`.
        let name: Int
        let log: Log
        var then: (() -> Void)?
        init(name: Int, log: Log) {
            self.name = name
            self.log = log
        }
        func flushNow() {
            self.log.names.withLock { $0.append(self.name) }
            self.then?()
        }
    }

    func testFlushesScheduledDuringAFlushRunBeforeTheLoopWaits() throws {
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdown(timeoutSeconds: 5) }
        let loop = group.loops[0]
        let log = Log()
        let done = DispatchSemaphore(value: 0)
        // 200 targets in one iteration; target 0 schedules 1000, which schedules 1001.
        let targets = (0..<200).map { Target(name: $0, log: log) }
        let second = Target(name: 1000, log: log)
        let third = Target(name: 1001, log: log)
        targets[0].then = { loop.scheduleFlush(second) }
        second.then = { loop.scheduleFlush(third) }
        loop.execute {
            for target in targets { loop.scheduleFlush(target) }
            // Queued now, so it runs in the next iteration: after this iteration's flushes.
            loop.execute { done.signal() }
        }
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        let names = log.names.withLock { $0 }
        XCTAssertEqual(names.count, 202, "each target flushed exactly once")
        XCTAssertEqual(Set(names), Set(0..<200).union([1000, 1001]))
        // A flush scheduled by a flush comes after the one that scheduled it.
        let order = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        XCTAssertLessThan(try XCTUnwrap(order[0]), try XCTUnwrap(order[1000]))
        XCTAssertLessThan(try XCTUnwrap(order[1000]), try XCTUnwrap(order[1001]))
    }

    func testEachIterationFlushesOnlyWhatItScheduled() throws {
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdown(timeoutSeconds: 5) }
        let loop = group.loops[0]
        let log = Log()
        let target = Target(name: 7, log: log)
        for round in 1...3 {
            let done = DispatchSemaphore(value: 0)
            loop.execute {
                loop.scheduleFlush(target)
                loop.execute { done.signal() }
            }
            XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
            XCTAssertEqual(log.names.withLock { $0 }, Array(repeating: 7, count: round))
        }
    }
}
