import Foundation
import Glibc
import Synchronization
import Transport
import XCTest

/// Transport's unix-socket connect: a real listening socket, bytes both ways, and the errors.
final class UnixSocketConnectorTests: XCTestCase {
    private final class Collector: ConnectionHandler, @unchecked Sendable {
        // Used on the loop thread only; `received` is read by the test through the lock.
        let received = Mutex<[UInt8]>([])
        func connectionRead(_ connection: TCPConnection, _ buffer: inout ByteBuffer) {
            let bytes = buffer.readAll()
            self.received.withLock { $0 += bytes }
        }
        func connectionClosed(_ connection: TCPConnection, error: Int32?) {}
    }

    func testConnectsAndExchangesBytes() throws {
        let path = NSTemporaryDirectory() + "unix-connector-\(getpid()).sock"
        unlink(path)
        defer { unlink(path) }
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        let address = try XCTUnwrap(SocketAddress.unix(path: path))
        XCTAssertEqual(address.unixPath, path)
        XCTAssertEqual(address.description, "unix:\(path)")
        var un = sockaddr_un()
        un.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &un.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &un) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 && listen(listener, 4) == 0
            }
        }
        XCTAssertTrue(bound)

        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdown() }
        let collector = Collector()
        let connected = expectation(description: "connected")
        let held = Mutex<TCPConnection?>(nil)
        UnixSocketConnector.connect(path: path, on: group.loops[0], timeoutMillis: 2_000) { result in
            if case .success(let connection) = result {
                connection.handler = collector
                connection.write(Array("ping".utf8))
                held.withLock { $0 = connection }
            }
            connected.fulfill()
        }
        wait(for: [connected], timeout: 5)
        let peer = accept(listener, nil, nil)
        XCTAssertGreaterThanOrEqual(peer, 0)
        defer { close(peer) }
        var buffer = [UInt8](repeating: 0, count: 16)
        XCTAssertEqual(recv(peer, &buffer, 16, 0), 4)
        XCTAssertEqual(Array(buffer[0..<4]), Array("ping".utf8))
        XCTAssertEqual(send(peer, "pong", 4, 0), 4)
        let deadline = Date().addingTimeInterval(5)
        while collector.received.withLock({ $0.count }) < 4 && Date() < deadline { usleep(5_000) }
        XCTAssertEqual(collector.received.withLock { $0 }, Array("pong".utf8))
        let connection = held.withLock { $0 }
        group.loops[0].execute { connection?.close() }
    }

    func testReportsAMissingSocketAndAnOverlongPath() throws {
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdown() }
        let results = Mutex<[TCPConnectError]>([])
        let done = expectation(description: "both failed")
        done.expectedFulfillmentCount = 2
        for path in ["/nonexistent/redis.sock", "/" + String(repeating: "x", count: 200)] {
            UnixSocketConnector.connect(path: path, on: group.loops[0], timeoutMillis: 1_000) { result in
                if case .failure(let error) = result { results.withLock { $0.append(error) } }
                done.fulfill()
            }
        }
        wait(for: [done], timeout: 5)
        let errors = results.withLock { $0 }
        XCTAssertTrue(errors.contains(.connectFailed(address: "unix:/nonexistent/redis.sock", errno: ENOENT)), "\(errors)")
        XCTAssertTrue(errors.contains { if case .connectFailed(_, ENAMETOOLONG) = $0 { return true } else { return false } }, "\(errors)")
        XCTAssertNil(SocketAddress.unix(path: ""))
    }
}
