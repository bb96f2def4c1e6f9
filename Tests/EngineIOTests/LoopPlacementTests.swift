import Foundation
import Glibc
import Synchronization
import XCTest

@testable import Transport

/// Which loop owns a new connection with the default shared listening socket (`loopForNewConnection`): the
/// first loop while it is not busy, whichever loop the kernel woke to accept it; the next one once the first
/// is busy. And a loop wakes only for work: an idle loop holding a far timer sleeps.
final class LoopPlacementTests: XCTestCase {
    private var group: EventLoopGroup!
    private var listener: TCPListener?
    /// Set to stop the busy work `keepBusy` queues.
    private let stopBusy = StopFlag()

    override func tearDown() {
        self.stopBusy.raised.store(true, ordering: .relaxed)
        self.listener?.close()
        self.group?.shutdown()
        (self.listener, self.group) = (nil, nil)
        super.tearDown()
    }

    func testIdleLoopsGiveEveryConnectionToTheFirstLoop() throws {
        self.group = try EventLoopGroup(loopCount: 2)
        let perLoop = Mutex<[Int]>([0, 0])
        let listener = try TCPListener(host: "127.0.0.1", port: 0, group: self.group) { connection in
            perLoop.withLock { $0[connection.loop.index] += 1 }
            connection.close()
        }
        self.listener = listener
        let total = 32
        for _ in 0..<total {
            let client = try TestSocket(port: listener.address.port)
            client.close()
        }
        XCTAssertTrue(TestDeadline.wait(timeout: 10) { perLoop.withLock { $0.reduce(0, +) } == total })
        XCTAssertEqual(perLoop.withLock { $0 }, [total, 0])
    }

    func testABusyFirstLoopPassesNewConnectionsOn() throws {
        self.group = try EventLoopGroup(loopCount: 2)
        let first = self.group.loops[0]
        self.keepBusy(first)
        XCTAssertTrue(TestDeadline.wait(timeout: 10) {
            first.load.recentPermille(now: monotonicNanos()) >= EventLoopGroup.fillThresholdPermille
        }, "the spinning loop never looked busy")
        let owner = Mutex<Int?>(nil)
        let listener = try TCPListener(host: "127.0.0.1", port: 0, group: self.group) { connection in
            owner.withLock { $0 = connection.loop.index }
            connection.close()
        }
        self.listener = listener
        let client = try TestSocket(port: listener.address.port)
        defer { client.close() }
        XCTAssertTrue(TestDeadline.wait(timeout: 10) { owner.withLock { $0 } != nil })
        XCTAssertEqual(owner.withLock { $0 }, 1)
    }

    /// A loop that hands a connection to another steps aside from the shared socket for a while; at least one
    /// loop keeps watching it, so connections are taken whichever way placement turns: to the first loop while
    /// it is idle, to the second while the first is busy, and to the first again once it is idle.
    func testConnectionsAreTakenAsPlacementTurnsBetweenLoops() throws {
        self.group = try EventLoopGroup(loopCount: 2)
        let first = self.group.loops[0]
        let owners = Mutex<[Int]>([])
        let listener = try TCPListener(host: "127.0.0.1", port: 0, group: self.group) { connection in
            owners.withLock { $0.append(connection.loop.index) }
            connection.close()
        }
        self.listener = listener
        func connect(_ count: Int) throws -> [Int] {
            owners.withLock { $0.removeAll() }
            for _ in 0..<count {
                let client = try TestSocket(port: listener.address.port)
                client.close()
            }
            XCTAssertTrue(TestDeadline.wait(timeout: 10) { owners.withLock { $0.count } == count },
                          "only \(owners.withLock { $0.count }) of \(count) connections were taken")
            return owners.withLock { $0 }
        }
        XCTAssertEqual(Set(try connect(16)), [0])
        self.keepBusy(first)
        XCTAssertTrue(TestDeadline.wait(timeout: 10) {
            first.load.recentPermille(now: monotonicNanos()) >= EventLoopGroup.fillThresholdPermille
        })
        XCTAssertEqual(Set(try connect(16)), [1])
        self.stopBusy.raised.store(true, ordering: .relaxed)
        XCTAssertTrue(TestDeadline.wait(timeout: 10) {
            self.group.loopForNewConnection(acceptedOn: self.group.loops[1]) === first
        })
        XCTAssertEqual(Set(try connect(16)), [0])
    }

    func testTheLoadOfALoopThatStoppedWorkingFades() throws {
        self.group = try EventLoopGroup(loopCount: 2)
        let first = self.group.loops[0]
        self.keepBusy(first)
        XCTAssertTrue(TestDeadline.wait(timeout: 10) {
            first.load.recentPermille(now: monotonicNanos()) >= EventLoopGroup.fillThresholdPermille
        })
        XCTAssertTrue(self.group.loopForNewConnection(acceptedOn: first) === self.group.loops[1])
        self.stopBusy.raised.store(true, ordering: .relaxed)
        // Asleep, it publishes nothing new: what it published counts for less as time passes.
        XCTAssertTrue(TestDeadline.wait(timeout: 10) { self.group.loopForNewConnection(acceptedOn: self.group.loops[1]) === first })
    }

    func testAnIdleLoopWithAFarTimerDoesNotWake() throws {
        self.group = try EventLoopGroup(loopCount: 2)
        let (idle, other) = (self.group.loops[0], self.group.loops[1])
        let armed = DispatchSemaphore(value: 0)
        idle.execute {
            // A heartbeat-like timer on the wheel, far away: the loop sleeps until then.
            idle.scheduleCoarse(afterMillis: 30_000) {}
            armed.signal()
        }
        XCTAssertEqual(armed.wait(timeout: .now() + 5), .success)
        // The iteration that ran the task has ended once a second task ran.
        let settled = DispatchSemaphore(value: 0)
        idle.execute { settled.signal() }
        XCTAssertEqual(settled.wait(timeout: .now() + 5), .success)
        let before = idle.wakeupCount.load(ordering: .relaxed)
        // Wait for something else to happen: a 300 ms timer on the other loop, longer than 17 wheel ticks.
        let fired = Atomic<Bool>(false)
        other.execute { other.schedule(afterMillis: 300) { fired.store(true, ordering: .relaxed) } }
        XCTAssertTrue(TestDeadline.wait(timeout: 5) { fired.load(ordering: .relaxed) })
        // At most the wakeup of the task's own iteration, if it had not gone back to sleep yet.
        XCTAssertLessThanOrEqual(idle.wakeupCount.load(ordering: .relaxed) - before, 1)
    }

    func testALoopWakesOnceForACoarseTimer() throws {
        self.group = try EventLoopGroup(loopCount: 1)
        let loop = self.group.loops[0]
        let fired = Atomic<Bool>(false)
        let before = Mutex<Int>(0)
        let done = DispatchSemaphore(value: 0)
        loop.execute {
            before.withLock { $0 = loop.wakeupCount.load(ordering: .relaxed) }
            loop.scheduleCoarse(afterMillis: 200) { fired.store(true, ordering: .relaxed) }
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success)
        XCTAssertTrue(TestDeadline.wait(timeout: 5) { fired.load(ordering: .relaxed) })
        // 200 ms is 12 ticks of the wheel: one wakeup when it is due (plus one for an early slot), not one a tick.
        XCTAssertLessThanOrEqual(loop.wakeupCount.load(ordering: .relaxed) - before.withLock { $0 }, 3)
    }

    /// Keeps `loop` busy in short slices (20 ms per iteration, as a loaded loop runs) until `stopBusy`.
    private func keepBusy(_ loop: EventLoop) {
        let stop = self.stopBusy
        @Sendable func slice() {
            guard !stop.raised.load(ordering: .relaxed) else { return }
            let end = monotonicNanos() + 20_000_000
            while monotonicNanos() < end {}
            loop.execute { slice() }
        }
        loop.execute { slice() }
    }
}

/// A flag shared with work queued on a loop.
private final class StopFlag: Sendable {
    let raised = Atomic<Bool>(false)
}
