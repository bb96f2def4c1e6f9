import Foundation
import Glibc
import Synchronization
import XCTest

@testable import Transport

/// Back-pressure between loops (LoopLag.swift) and time-sliced task queues, over real sockets: a reader
/// whose input queues work on a loop that is behind stops reading until that loop catches up, and a loop
/// with a long queue of tasks still serves its connections between slices.
final class LoopLagTests: XCTestCase {
    private var group: EventLoopGroup?
    private var listener: TCPListener?

    override func tearDown() {
        self.listener?.close()
        self.group?.shutdown(timeoutSeconds: 5)
        // XCTest keeps every test case until the process exits: let go of the listener and its loops.
        (self.listener, self.group) = (nil, nil)
        super.tearDown()
    }

    /// Starts `loops` loops and a listener whose connections get the handler `makeHandler` returns.
    private func start(loops: Int, _ makeHandler: @escaping @Sendable (TCPConnection) -> ConnectionHandler) throws -> Int {
        let group = try EventLoopGroup(loopCount: loops)
        self.group = group
        let listener = try TCPListener(host: "127.0.0.1", port: 0, group: group) { connection in
            connection.handler = makeHandler(connection)
        }
        self.listener = listener
        return listener.address.port
    }

    func testReaderFeedingABlockedLoopStopsUntilThatLoopCatchesUp() throws {
        let state = FanOutState()
        let port = try self.start(loops: 2) { connection in
            state.connection.withLock { $0 = connection }
            return FanOutHandler(state: state)
        }
        let group = try XCTUnwrap(self.group)
        // Hold one loop with a task that waits at a gate: the hops queued on it pile up.
        let gate = DispatchSemaphore(value: 0)
        let client = try TestSocket(port: port)
        XCTAssertTrue(TestDeadline.wait(timeout: 5) { state.connection.withLock { $0 } != nil }, "accepted")
        let connection = try XCTUnwrap(state.connection.withLock { $0 })
        let readerLoop = connection.loop
        let other = try XCTUnwrap(group.loops.first { $0 !== readerLoop })
        state.target.withLock { $0 = other }
        other.execute { _ = gate.wait(timeout: .now() + 30) }

        // 64 KiB, each byte a hop to the held loop: far more than the high mark.
        let total = 64 * 1024
        let payload = [UInt8](repeating: 0x78, count: total)
        let fd = client.fd
        let sender = Thread {
            // A plain blocking send from its own thread: it waits in the kernel while the reader is paused.
            var offset = 0
            while offset < payload.count {
                let sent = payload.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, payload.count - offset, Int32(MSG_NOSIGNAL)) }
                if sent <= 0 { if errno == EINTR { continue } else { return } }
                offset += sent
            }
        }
        sender.start()
        XCTAssertTrue(TestDeadline.wait(timeout: 10) { readerLoop.runAndWait { connection.readingPausedByLag } },
                      "the reader stops once the loop it feeds is behind")
        let readWhilePaused = state.bytesRead.load(ordering: .relaxed)
        XCTAssertLessThan(readWhilePaused, total, "input waits in the kernel")
        XCTAssertLessThanOrEqual(state.deepestQueue.load(ordering: .relaxed),
                                 EventLoop.lagHighMark + TCPConnection.readBytesPerWakeup + 1,
                                 "the held loop's queue stops growing at the high mark (plus one read)")
        // Still paused a little later: nothing resumes it while the other loop is held.
        XCTAssertTrue(readerLoop.runAndWait { connection.readingPausedByLag })
        XCTAssertEqual(state.bytesRead.load(ordering: .relaxed), readWhilePaused)

        gate.signal()
        XCTAssertTrue(TestDeadline.wait(timeout: 10) { state.hopsRun.load(ordering: .relaxed) == total },
                      "every byte's hop ran once the loop caught up: \(state.hopsRun.load(ordering: .relaxed)) of \(total)")
        XCTAssertEqual(state.bytesRead.load(ordering: .relaxed), total)
        XCTAssertTrue(TestDeadline.wait(timeout: 5) { !readerLoop.runAndWait { connection.readingPausedByLag } },
                      "reading again once the loop is under the low mark")
        client.close()
    }

    func testLoopServesItsConnectionsBetweenSlicesOfALongTaskQueue() throws {
        let counters = EchoCounters()
        let port = try self.start(loops: 1) { _ in EchoRecordingHandler(counters: counters) }
        let loop = try XCTUnwrap(self.group?.loops.first)
        let client = try TestSocket(port: port)
        try client.send("a")
        guard case .bytes = client.receive(deadline: TestDeadline.after(5)) else { return XCTFail("no first echo") }

        // A gate, then 20,000 tasks of about 20 µs each (some 400 ms in all).
        let gate = DispatchSemaphore(value: 0)
        let total = 20_000
        loop.execute { _ = gate.wait(timeout: .now() + 30) }
        for _ in 0..<total {
            loop.execute {
                let start = monotonicNanos()
                while monotonicNanos() &- start < 20_000 {}
                counters.tasksRun.add(1, ordering: .relaxed)
            }
        }
        counters.runAtEcho.store(-1, ordering: .relaxed)
        try client.send("b")
        gate.signal()
        guard case .bytes = client.receive(deadline: TestDeadline.after(30)) else { return XCTFail("no echo") }
        let seen = counters.runAtEcho.load(ordering: .relaxed)
        XCTAssertGreaterThanOrEqual(seen, 0)
        XCTAssertLessThan(seen, total / 2, "the echo ran after a slice of the queue, not after all of it")
        XCTAssertTrue(TestDeadline.wait(timeout: 30) { counters.tasksRun.load(ordering: .relaxed) == total }, "the rest ran too")
    }
}

/// What FanOutHandler saw, readable from the test thread.
private final class FanOutState: Sendable {
    let connection = Mutex<TCPConnection?>(nil)
    let target = Mutex<EventLoop?>(nil)
    let bytesRead = Atomic<Int>(0)
    let hopsRun = Atomic<Int>(0)
    let deepestQueue = Atomic<Int>(0)
}

/// Queues one task per byte read on `state.target` (a broadcast hop per message, in miniature).
private final class FanOutHandler: ConnectionHandler, @unchecked Sendable {
    let state: FanOutState

    init(state: FanOutState) { self.state = state }

    func connectionRead(_ connection: TCPConnection, _ buffer: inout ByteBuffer) {
        let count = buffer.readableBytes
        buffer.clear()
        self.state.bytesRead.add(count, ordering: .relaxed)
        guard let target = self.state.target.withLock({ $0 }) else { return }
        let state = self.state
        for _ in 0..<count {
            target.execute { state.hopsRun.add(1, ordering: .relaxed) }
        }
        let depth = target.taskDepth.load(ordering: .relaxed)
        if depth > self.state.deepestQueue.load(ordering: .relaxed) { self.state.deepestQueue.store(depth, ordering: .relaxed) }
    }

    func connectionClosed(_ connection: TCPConnection, error: Int32?) {}
}

/// Tasks run so far, and how many had run when the last echo was written.
private final class EchoCounters: Sendable {
    let tasksRun = Atomic<Int>(0)
    let runAtEcho = Atomic<Int>(-1)
}

/// Echoes each read and records how many tasks had run by then.
private final class EchoRecordingHandler: ConnectionHandler, @unchecked Sendable {
    let counters: EchoCounters

    init(counters: EchoCounters) { self.counters = counters }

    func connectionRead(_ connection: TCPConnection, _ buffer: inout ByteBuffer) {
        let bytes = buffer.readAll()
        self.counters.runAtEcho.store(self.counters.tasksRun.load(ordering: .relaxed), ordering: .relaxed)
        connection.write(bytes)
    }

    func connectionClosed(_ connection: TCPConnection, error: Int32?) {}
}
