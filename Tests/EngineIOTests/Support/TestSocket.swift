import Foundation
import Glibc

/// Why a test client call failed. Every blocking call has a deadline, so a misbehaving server makes a
/// test fail with `.timedOut` instead of hanging the suite.
enum TestClientError: Error, CustomStringConvertible {
    /// `socket`/`connect` failed with this errno.
    case connectFailed(Int32)
    /// Nothing (or not enough) arrived before the deadline; says what was awaited.
    case timedOut(String)
    /// The peer closed the connection (EOF or reset) while more bytes were expected.
    case connectionClosed(String)
    /// A send failed with this errno (EPIPE, ECONNRESET...).
    case sendFailed(Int32)
    /// The peer sent something the client cannot make sense of.
    case protocolViolation(String)

    var description: String {
        switch self {
        case .connectFailed(let code): return "connect failed: \(String(cString: strerror(code)))"
        case .timedOut(let what): return "timed out waiting for \(what)"
        case .connectionClosed(let what): return "connection closed while waiting for \(what)"
        case .sendFailed(let code): return "send failed: \(String(cString: strerror(code)))"
        case .protocolViolation(let what): return "protocol violation: \(what)"
        }
    }
}

/// A blocking IPv4 TCP client socket for tests: connect, send all, receive with a deadline.
///
/// Receives use `SO_RCVTIMEO` set to the time left before the caller's deadline, so no call blocks past
/// it. Sends use `MSG_NOSIGNAL` (a peer that closed must not kill the test process with SIGPIPE) and a
/// send timeout.
final class TestSocket {
    let fd: Int32
    private(set) var isClosed = false

    /// Connects to `host:port` (a dotted IPv4 address), giving up after `timeout` seconds; `configure` sees
    /// the socket before the connect (buffer sizes).
    init(host: String = "127.0.0.1", port: Int, timeout: TimeInterval = 5, configure: (Int32) -> Void = { _ in }) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestClientError.connectFailed(errno) }
        configure(fd)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            Glibc.close(fd)
            throw TestClientError.connectFailed(EINVAL)
        }
        // A send timeout also bounds a blocking connect on Linux.
        Self.setTimeout(fd, option: SO_SNDTIMEO, seconds: timeout)
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            Glibc.close(fd)
            throw TestClientError.connectFailed(code)
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        self.fd = fd
    }

    deinit { self.close() }

    func close() {
        guard !self.isClosed else { return }
        self.isClosed = true
        Glibc.close(self.fd)
    }

    /// Half-closes the sending side (the peer reads EOF).
    func shutdownWrite() {
        guard !self.isClosed else { return }
        shutdown(self.fd, Int32(SHUT_WR))
    }

    /// Sends every byte of `bytes`, or throws.
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw in
                Glibc.send(self.fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                if errno == EINTR { continue }
                throw TestClientError.sendFailed(errno)
            }
            offset += sent
        }
    }

    func send(_ text: String) throws { try self.send(Array(text.utf8)) }

    /// What one `receive` call returned.
    enum ReceiveResult {
        case bytes([UInt8])
        /// The peer closed (EOF), or reset the connection.
        case closed
        case timedOut
    }

    /// Reads whatever arrives first (up to `maxBytes`), waiting at most until `deadline`.
    func receive(maxBytes: Int = 64 * 1024, deadline: Date) -> ReceiveResult {
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return .timedOut }
            // SO_RCVTIMEO of zero means "forever": never pass less than a millisecond.
            Self.setTimeout(self.fd, option: SO_RCVTIMEO, seconds: max(remaining, 0.001))
            var buffer = [UInt8](repeating: 0, count: maxBytes)
            let count = buffer.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, maxBytes, 0) }
            if count > 0 { return .bytes(Array(buffer[..<count])) }
            if count == 0 { return .closed }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: continue  // the loop re-checks the deadline
            default: return .closed  // ECONNRESET and friends: the peer is gone
            }
        }
    }

    /// Reads exactly `count` bytes, waiting at most `seconds` for all of them.
    func receive(count: Int, seconds: TimeInterval = 10) throws -> [UInt8] {
        var bytes: [UInt8] = []
        let deadline = TestDeadline.after(seconds)
        while bytes.count < count {
            switch self.receive(deadline: deadline) {
            case .bytes(let chunk): bytes += chunk
            case .closed: throw TestClientError.connectionClosed("\(count) bytes")
            case .timedOut: throw TestClientError.timedOut("\(count) bytes, got \(bytes.count)")
            }
        }
        return bytes
    }

    private static func setTimeout(_ fd: Int32, option: Int32, seconds: TimeInterval) {
        let whole = Int(seconds)
        var value = timeval(tv_sec: whole, tv_usec: Int(((seconds - Double(whole)) * 1_000_000).rounded(.up)))
        if value.tv_usec >= 1_000_000 {
            value.tv_sec += 1
            value.tv_usec -= 1_000_000
        }
        setsockopt(fd, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<timeval>.size))
    }
}

/// Deadlines for bounded waits.
enum TestDeadline {
    /// `seconds` from now.
    static func after(_ seconds: TimeInterval) -> Date { Date(timeIntervalSinceNow: seconds) }

    /// Re-evaluates `condition` every few milliseconds until it holds or `timeout` passes; returns whether
    /// it held. For waits on state that has no event to block on.
    static func wait(timeout: TimeInterval, pollingEvery interval: TimeInterval = 0.005, until condition: () -> Bool) -> Bool {
        let deadline = Self.after(timeout)
        while true {
            if condition() { return true }
            if Date() >= deadline { return false }
            usleep(useconds_t(interval * 1_000_000))
        }
    }
}
