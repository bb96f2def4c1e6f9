import Foundation
import Synchronization
import XCTest

@testable import Transport

/// A group shut down while a connection and a listener are still open on its loop: the loop closes them
/// (the handler hears of it, the peer sees the end) and lets go of them, so nothing keeps the loop alive.
/// Before, the loop kept every registered connection, and each connection kept its loop: a cycle per loop
/// that LeakSanitizer reported at exit with everything the connections held.
final class EventLoopShutdownTests: XCTestCase {
    func testStoppedLoopClosesWhatIsStillOpenAndIsFreed() throws {
        weak var weakLoop: EventLoop?
        weak var weakConnection: TCPConnection?
        let closes = CloseErrors()
        let peer: TestSocket
        do {
            let group = try EventLoopGroup(loopCount: 1)
            let accepted = Mutex<TCPConnection?>(nil)
            let listener = try TCPListener(host: "127.0.0.1", port: 0, group: group) { connection in
                connection.handler = closes
                accepted.withLock { $0 = connection }
            }
            peer = try TestSocket(port: listener.address.port)
            XCTAssertTrue(TestDeadline.wait(timeout: 5, until: { accepted.withLock { $0 != nil } }))
            weakConnection = accepted.withLock { $0 }
            accepted.withLock { $0 = nil }
            weakLoop = group.loops[0]
            // Neither the listener nor the connection is closed first.
            group.shutdown(timeoutSeconds: 5)
        }
        XCTAssertEqual(closes.errors.withLock { $0 }, [ECANCELED])
        guard case .closed = peer.receive(deadline: Date(timeIntervalSinceNow: 5)) else {
            return XCTFail("the peer should see the connection end")
        }
        XCTAssertNil(weakConnection, "the stopped loop still holds the connection")
        XCTAssertNil(weakLoop, "the stopped loop is kept alive")
    }

    /// A deadline (`scheduleDeadline`) still pending when its loop stops runs then, once; a plain timer is
    /// dropped unrun.
    func testStoppedLoopRunsPendingDeadlinesAndDropsPlainTimers() throws {
        let group = try EventLoopGroup(loopCount: 1)
        let ran = Mutex<[String]>([])
        let scheduled = DispatchSemaphore(value: 0)
        group.loops[0].execute {
            group.loops[0].schedule(afterMillis: 60_000) { ran.withLock { $0.append("timer") } }
            group.loops[0].scheduleDeadline(afterMillis: 60_000) { ran.withLock { $0.append("deadline") } }
            scheduled.signal()
        }
        XCTAssertEqual(scheduled.wait(timeout: .now() + 5), .success)
        group.shutdown(timeoutSeconds: 5)
        XCTAssertEqual(ran.withLock { $0 }, ["deadline"])
    }
}

/// Records the errno each connection closed with.
private final class CloseErrors: ConnectionHandler, Sendable {
    let errors = Mutex<[Int32]>([])

    func connectionRead(_ connection: TCPConnection, _ buffer: inout ByteBuffer) { buffer.clear() }

    func connectionClosed(_ connection: TCPConnection, error: Int32?) {
        self.errors.withLock { $0.append(error ?? 0) }
    }
}
