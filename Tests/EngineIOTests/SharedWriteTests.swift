import Glibc
import Synchronization
import XCTest

@testable import Transport

/// `TCPConnection.writeShared`: bytes many connections send (a broadcast's frame) are adopted by reference
/// when nothing else waits, and what is written after them, in the same iteration or while the kernel still
/// holds part of them back, follows them on the wire in order; the shared array itself never changes.
final class SharedWriteTests: XCTestCase {
    private var group: EventLoopGroup?
    private var listener: TCPListener?
    private let accepted = AcceptedConnections()

    override func tearDown() {
        self.listener?.close()
        self.group?.shutdown(timeoutSeconds: 5)
        (self.listener, self.group) = (nil, nil)
        super.tearDown()
    }

    private func start() throws -> (port: Int, loop: EventLoop) {
        let group = try EventLoopGroup(loopCount: 1)
        self.group = group
        let listener = try TCPListener(host: "127.0.0.1", port: 0, group: group) { [accepted] connection in
            connection.handler = IgnoringHandler()
            accepted.list.withLock { $0.append(connection) }
        }
        self.listener = listener
        return (listener.address.port, group.loops[0])
    }

    private func connection(_ index: Int) throws -> TCPConnection {
        XCTAssertTrue(TestDeadline.wait(timeout: 5) { self.accepted.list.withLock { $0.count } > index }, "accepted")
        return try XCTUnwrap(self.accepted.list.withLock { $0.count > index ? $0[index] : nil })
    }

    func testSharedBytesAndLaterWritesReachEachPeerInOrder() throws {
        let (port, loop) = try self.start()
        let first = try TestSocket(port: port)
        let a = try self.connection(0)
        let second = try TestSocket(port: port)
        let b = try self.connection(1)
        let frame = Array("shared-frame|".utf8)
        let other = Array("other|".utf8)
        let state = loop.runAndWait { () -> Bool in
            a.writeShared(frame)
            a.write(Array("own|".utf8))
            a.writeShared(other)
            a.withOutboundBuffer { $0.append(contentsOf: Array("encoded".utf8)) }
            b.writeShared(frame)
            return b.outboundShared && !a.outboundShared
        }
        XCTAssertTrue(state, "adopted when nothing waits, copied behind what waits")
        let expected = Array("shared-frame|own|other|encoded".utf8)
        XCTAssertEqual(try first.receive(count: expected.count), expected)
        XCTAssertEqual(try second.receive(count: frame.count), frame)
        XCTAssertEqual(frame, Array("shared-frame|".utf8), "the shared array is not written to")
        let released = loop.runAndWait { b.pendingOutputBytes == 0 && !b.outboundShared && b.outbound.capacity == 0 }
        XCTAssertTrue(released, "once sent, the connection lets go of the shared bytes")
    }

    /// The kernel takes part of a large shared array; a write that comes while the rest waits gets the rest
    /// copied in front of it.
    func testWriteAfterAPartlySentSharedArrayFollowsItsRest() throws {
        let (port, loop) = try self.start()
        let client = try TestSocket(port: port) { fd in
            var size: Int32 = 4096
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        let connection = try self.connection(0)
        let big = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        loop.execute { connection.writeShared(big) }
        XCTAssertTrue(TestDeadline.wait(timeout: 5) {
            loop.runAndWait { connection.outboundStart > 0 && connection.pendingOutputBytes > 0 }
        }, "the kernel took part of it and holds back the rest")
        let tail = Array("tail".utf8)
        loop.execute { connection.write(tail) }
        XCTAssertEqual(try client.receive(count: big.count + tail.count), big + tail)
    }
}

/// The connections a listener accepted, in order.
private final class AcceptedConnections: Sendable {
    let list = Mutex<[TCPConnection]>([])
}

/// Takes nothing from its peer (the tests only write).
private final class IgnoringHandler: ConnectionHandler {
    func connectionRead(_ connection: TCPConnection, _ buffer: inout ByteBuffer) { buffer.clear() }
    func connectionClosed(_ connection: TCPConnection, error: Int32?) {}
}
