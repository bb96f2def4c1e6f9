import Foundation
import Glibc
import XCTest

@testable import EngineIO
@testable import HTTPKit
@testable import Transport

/// The per-connection cap on a peer's backlog, the congestion flag volatile sends look at, and the group's
/// output budget, over real sockets whose peers do not read (tiny receive and send buffers).
final class ConnectionBackpressureTests: XCTestCase {
    private var harness: SilentPeerHarness!

    override func tearDown() {
        self.harness?.shutdown()
        // XCTest keeps every test case until the process exits: let go of the loops and connections.
        self.harness = nil
        super.tearDown()
    }

    private func start(cap: Int, budget: Int? = nil) throws {
        self.harness = try SilentPeerHarness { connection in connection.maxBackpressure = cap }
        if let budget { self.harness.group.outputBudget.limit = budget }
    }

    func testPeerThatStopsReadingIsClosedOnceItsBacklogPassesTheCap() throws {
        try self.start(cap: 64 * 1024)
        let (peer, connection) = try self.harness.connectSilentPeer()
        let chunk = [UInt8](repeating: 0x61, count: 8 * 1024)
        var written = 0
        while written < 4 * 1024 * 1024 {
            let open = self.harness.onLoop(connection) { () -> Bool in
                connection.write(chunk)
                return !connection.isClosed
            }
            written += chunk.count
            if !open { break }
        }
        XCTAssertEqual(self.harness.closeError(connection), ENOBUFS, "closed by the cap, after \(written) bytes")
        XCTAssertGreaterThan(written, 64 * 1024, "not before the cap")
        XCTAssertLessThan(written, 512 * 1024, "a few kernel buffers and the cap, no more")
        XCTAssertEqual(self.harness.group.outputBudget.totalBytes, 0, "its bytes leave the loop's count")
        // The peer sees the end once it reads what the kernel holds.
        XCTAssertLessThan(peer.drain(count: .max, deadline: TestDeadline.after(5)), written)
    }

    func testOneLargeMessageReachesAReadingPeerDespiteASmallCap() throws {
        try self.start(cap: 64 * 1024)
        let (peer, connection) = try self.harness.connectSilentPeer()
        let big = [UInt8](repeating: 0x62, count: 2 * 1024 * 1024)
        self.harness.onLoop(connection) { connection.write(big) }
        // Small messages after it, while it waits: far less than the cap beyond it.
        for _ in 0..<16 {
            self.harness.onLoop(connection) { connection.write([UInt8](repeating: 0x63, count: 1024)) }
        }
        XCTAssertTrue(self.harness.onLoop(connection) { connection.isCongested }, "the peer is behind")
        let expected = big.count + 16 * 1024
        XCTAssertEqual(peer.drain(count: expected, deadline: TestDeadline.after(10)), expected)
        XCTAssertTrue(TestDeadline.wait(timeout: 5) { self.harness.onLoop(connection) { connection.pendingOutputBytes == 0 } })
        XCTAssertNil(self.harness.closeError(connection), "still open")
        XCTAssertFalse(self.harness.onLoop(connection) { connection.isCongested }, "caught up")
        XCTAssertEqual(self.harness.group.outputBudget.totalBytes, 0)
    }

    func testSecondLargeMessageMayWaitBehindTheFirstButNotAThird() throws {
        try self.start(cap: 64 * 1024)
        let (peer, connection) = try self.harness.connectSilentPeer()
        defer { peer.close() }
        let message = [UInt8](repeating: 0x64, count: 1024 * 1024)
        let afterFirst = self.harness.onLoop(connection) { () -> Bool in
            connection.write(message)
            return connection.isClosed
        }
        let afterSecond = self.harness.onLoop(connection) { () -> Bool in
            connection.write(message)
            return connection.isClosed
        }
        XCTAssertFalse(afterFirst)
        XCTAssertFalse(afterSecond, "the largest write is allowed on top of the cap")
        let afterThird = self.harness.onLoop(connection) { () -> Bool in
            connection.write(message)
            return connection.isClosed
        }
        XCTAssertTrue(afterThird, "two messages beyond what was waiting: over cap plus the largest")
        XCTAssertEqual(self.harness.closeError(connection), ENOBUFS)
    }

    func testCongestionShowsOnlyOnceTheKernelRefusesBytes() throws {
        try self.start(cap: 1024 * 1024)
        let (peer, connection) = try self.harness.connectSilentPeer()
        defer { peer.close() }
        XCTAssertFalse(self.harness.onLoop(connection) { connection.isCongested })
        // A small write goes straight into the kernel's buffers.
        XCTAssertFalse(self.harness.onLoop(connection) { () -> Bool in
            connection.write([UInt8](repeating: 0x65, count: 512))
            return connection.isCongested
        })
        XCTAssertFalse(self.harness.onLoop(connection) { connection.isCongested }, "sent")
        self.harness.onLoop(connection) { connection.write([UInt8](repeating: 0x65, count: 256 * 1024)) }
        XCTAssertTrue(self.harness.onLoop(connection) { connection.isCongested }, "the kernel refused the rest")
        XCTAssertTrue(self.harness.onLoop(connection) { connection.isWritable }, "still under the pause mark")
    }

    func testPauseMarkStaysUnderHalfTheCapSoAWriterWaitingForWritableIsNeverCut() throws {
        try self.start(cap: 128 * 1024)
        let (peer, connection) = try self.harness.connectSilentPeer()
        // What a streaming writer does: write while writable, then wait for the peer.
        let written = self.harness.onLoop(connection) { () -> Int in
            var total = 0
            while connection.isWritable {
                connection.write([UInt8](repeating: 0x66, count: 16 * 1024))
                total += 16 * 1024
            }
            return total
        }
        XCTAssertLessThanOrEqual(written, 64 * 1024 + 16 * 1024)
        XCTAssertEqual(peer.drain(count: written, deadline: TestDeadline.after(5)), written)
        XCTAssertNil(self.harness.closeError(connection))
    }

    func testOverBudgetClosesTheLargestBacklogFirst() throws {
        // No per-connection cap: only the group's budget of 1 MiB applies.
        try self.start(cap: 0, budget: 1024 * 1024)
        let (peerL, large) = try self.harness.connectSilentPeer()
        let (peerM, medium) = try self.harness.connectSilentPeer()
        let (peerS, small) = try self.harness.connectSilentPeer()
        defer { [peerL, peerM, peerS].forEach { $0.close() } }
        self.harness.onLoop(large) { large.write([UInt8](repeating: 1, count: 800 * 1024)) }
        XCTAssertNil(self.harness.closeError(large), "800 KiB is within the budget")
        self.harness.onLoop(medium) { medium.write([UInt8](repeating: 2, count: 400 * 1024)) }
        XCTAssertEqual(self.harness.closeError(large), ENOBUFS, "over the budget: the largest backlog goes")
        XCTAssertNil(self.harness.closeError(medium))
        self.harness.onLoop(small) { small.write([UInt8](repeating: 3, count: 100 * 1024)) }
        XCTAssertNil(self.harness.closeError(medium))
        XCTAssertNil(self.harness.closeError(small))
        let total = self.harness.group.outputBudget.totalBytes
        XCTAssertGreaterThan(total, 400 * 1024)
        XCTAssertLessThan(total, 500 * 1024, "only the two remaining backlogs are counted")
        self.harness.onLoop(medium) { medium.close() }
        self.harness.onLoop(small) { small.close() }
        XCTAssertEqual(self.harness.group.outputBudget.totalBytes, 0)
    }
}
