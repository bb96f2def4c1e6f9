import Foundation
import Glibc
import Synchronization

@testable import EngineIO
@testable import HTTPKit
@testable import Transport

/// One event loop, a listener, and client sockets with tiny receive buffers that read only when told to:
/// the kernel refuses the server's bytes after a few kilobytes, so a test controls exactly what is backlog.
final class SilentPeerHarness: @unchecked Sendable {
    // Invariant for @unchecked Sendable: `listener` is set in init only; connections are used on their loop.
    let group: EventLoopGroup
    private var listener: TCPListener!
    private let log = ConnectionLog()

    init(configure: @escaping @Sendable (TCPConnection) -> Void) throws {
        self.group = try EventLoopGroup(loopCount: 1)
        let log = self.log
        let recorder = CloseRecorder(log: log)
        self.listener = try TCPListener(host: "127.0.0.1", port: 0, group: self.group) { connection in
            // A small send buffer as well: what the kernel takes stays far below the sizes the tests use.
            var size: Int32 = 4096
            setsockopt(connection.fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            connection.handler = recorder
            configure(connection)
            log.accepted.withLock { $0.append(connection) }
        }
    }

    func shutdown() {
        self.listener.close()
        self.group.shutdown(timeoutSeconds: 2)
    }

    /// Connects a peer that does not read (SO_RCVBUF 4 KiB) and returns it with the server's side.
    func connectSilentPeer() throws -> (peer: TestSocket, connection: TCPConnection) {
        let before = self.log.accepted.withLock { $0.count }
        let peer = try TestSocket(port: self.listener.address.port, receiveBuffer: 4096)
        guard TestDeadline.wait(timeout: 5, until: { self.log.accepted.withLock { $0.count } > before }) else {
            throw TestClientError.timedOut("accept")
        }
        return (peer, self.log.accepted.withLock { $0[before] })
    }

    /// Runs `body` on the connection's loop and returns its result (each call is its own loop iteration, so
    /// what it wrote is flushed before the next call runs).
    @discardableResult
    func onLoop<T: Sendable>(_ connection: TCPConnection, _ body: @escaping @Sendable () -> T) -> T {
        let result = Mutex<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        connection.loop.execute {
            result.withLock { $0 = body() }
            done.signal()
        }
        done.wait()
        // One more empty round trip: the flush at the end of the iteration above has happened.
        let flushed = DispatchSemaphore(value: 0)
        connection.loop.execute { flushed.signal() }
        flushed.wait()
        return result.withLock { $0! }
    }

    /// The errno the connection was closed with (0: cleanly), nil while open.
    func closeError(_ connection: TCPConnection) -> Int32? {
        self.log.closes.withLock { $0[ObjectIdentifier(connection)] }
    }
}

/// The connections accepted, in order, and how they ended: the errno given to `connectionClosed`
/// (0 for a clean end).
private final class ConnectionLog: Sendable {
    let accepted = Mutex<[TCPConnection]>([])
    let closes = Mutex<[ObjectIdentifier: Int32]>([:])
}

/// Drops what peers send and records how connections end.
private final class CloseRecorder: ConnectionHandler, @unchecked Sendable {
    let log: ConnectionLog

    init(log: ConnectionLog) { self.log = log }

    func connectionRead(_ connection: TCPConnection, _ buffer: inout ByteBuffer) { buffer.clear() }

    func connectionClosed(_ connection: TCPConnection, error: Int32?) {
        self.log.closes.withLock { $0[ObjectIdentifier(connection)] = error ?? 0 }
    }
}

extension TestSocket {
    /// Connects with a receive buffer of `receiveBuffer` bytes, set before the connect so the window stays small.
    convenience init(port: Int, receiveBuffer: Int32) throws {
        try self.init(port: port, configure: { fd in
            var size = receiveBuffer
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        })
    }

    /// Reads until `count` bytes arrived or the deadline passes; returns how many arrived.
    func drain(count: Int, deadline: Date) -> Int {
        var received = 0
        while received < count {
            guard case .bytes(let bytes) = self.receive(maxBytes: 256 * 1024, deadline: deadline) else { break }
            received += bytes.count
        }
        return received
    }
}
