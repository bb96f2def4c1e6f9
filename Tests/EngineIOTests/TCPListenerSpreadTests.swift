import Foundation
import Glibc
import Synchronization
import XCTest

@testable import Transport

/// How a listener of a group of loops spreads new connections. With `.evenHash` each loop listens on its own
/// SO_REUSEPORT socket, so the kernel hashes connections over all loops, and a port already taken still fails
/// as it would with one socket; the default shared socket serves every loop and is closed once.
final class TCPListenerSpreadTests: XCTestCase {
    private var group: EventLoopGroup!
    private var listener: TCPListener?

    override func tearDown() {
        self.listener?.close()
        self.group?.shutdown()
        // XCTest keeps every test case until the process exits: let go of the listener and its loops.
        (self.listener, self.group) = (nil, nil)
        super.tearDown()
    }

    func testConnectionsAreSpreadOverEveryLoop() throws {
        self.group = try EventLoopGroup(loopCount: 2)
        let perLoop = Mutex<[Int]>([0, 0])
        let listener = try TCPListener(host: "127.0.0.1", port: 0, group: self.group, spread: .evenHash) { connection in
            perLoop.withLock { $0[connection.loop.index] += 1 }
            connection.close()
        }
        self.listener = listener
        let total = 64
        for _ in 0..<total {
            // Each client connects, then closes: the loop that accepted it counts it.
            let client = try TestSocket(port: listener.address.port)
            client.close()
        }
        XCTAssertTrue(TestDeadline.wait(timeout: 10) { perLoop.withLock { $0.reduce(0, +) } == total })
        let counts = perLoop.withLock { $0 }
        // With an even hash, fewer than 8 of 64 on one loop has a probability below 1e-10.
        XCTAssertGreaterThanOrEqual(counts.min() ?? 0, 8, "connections per loop: \(counts)")
    }

    func testAPortInUseIsRefusedWithSeveralLoops() throws {
        self.group = try EventLoopGroup(loopCount: 2)
        for spread in [ConnectionSpread.evenHash, .firstWaitingLoop] {
            let first = try TCPListener(host: "127.0.0.1", port: 0, group: self.group, spread: .evenHash) { $0.close() }
            defer { first.close() }
            XCTAssertThrowsError(try TCPListener(host: "127.0.0.1", port: first.address.port, group: self.group, spread: spread) { $0.close() }) { error in
                guard case EventLoopError.system(_, let code) = error else { return XCTFail("unexpected \(error)") }
                XCTAssertEqual(code, EADDRINUSE, "\(spread)")
            }
        }
    }

    func testAClosedListenerFreesItsPort() throws {
        self.group = try EventLoopGroup(loopCount: 2)
        for spread in [ConnectionSpread.evenHash, .firstWaitingLoop] {
            let first = try TCPListener(host: "127.0.0.1", port: 0, group: self.group, spread: spread) { $0.close() }
            let port = first.address.port
            first.close()
            // Closing runs on each loop: the port is free once every loop let go of its socket.
            var second: TCPListener?
            XCTAssertTrue(TestDeadline.wait(timeout: 5) {
                second = try? TCPListener(host: "127.0.0.1", port: port, group: self.group, spread: spread) { $0.close() }
                return second != nil
            }, "\(spread)")
            XCTAssertEqual(second?.address.port, port)
            second?.close()
        }
    }
}
