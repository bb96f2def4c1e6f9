import Foundation
import Glibc

/// Why a test client call failed; every blocking call has a deadline, so a silent server fails a test with
/// `.timedOut` instead of hanging the suite.
enum SIOTestError: Error, CustomStringConvertible {
    case connectFailed(Int32)
    case timedOut(String)
    case closed(String)
    case sendFailed(Int32)
    case unexpected(String)

    var description: String {
        switch self {
        case .connectFailed(let code): return "connect failed: errno \(code)"
        case .timedOut(let what): return "timed out waiting for \(what)"
        case .closed(let what): return "connection closed while waiting for \(what)"
        case .sendFailed(let code): return "send failed: errno \(code)"
        case .unexpected(let what): return "unexpected: \(what)"
        }
    }
}

/// A blocking IPv4 TCP connection with receive deadlines.
final class SIOTestSocket {
    private let fd: Int32
    private var isClosed = false

    init(port: Int, timeout: TimeInterval = 5) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SIOTestError.connectFailed(errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        Self.setTimeout(fd, option: SO_SNDTIMEO, seconds: timeout)
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            Glibc.close(fd)
            throw SIOTestError.connectFailed(code)
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

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw in
                Glibc.send(self.fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                if errno == EINTR { continue }
                throw SIOTestError.sendFailed(errno)
            }
            offset += sent
        }
    }

    enum Received {
        case bytes([UInt8])
        case closed
        case timedOut
    }

    /// Whatever arrives first, waiting until `deadline` at most.
    func receive(deadline: Date) -> Received {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return .timedOut }
            Self.setTimeout(self.fd, option: SO_RCVTIMEO, seconds: max(remaining, 0.001))
            let count = buffer.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, $0.count, 0) }
            if count > 0 { return .bytes(Array(buffer[..<count])) }
            if count == 0 { return .closed }
            switch errno {
            case EINTR, EAGAIN, EWOULDBLOCK: continue
            default: return .closed
            }
        }
    }

    private static func setTimeout(_ fd: Int32, option: Int32, seconds: TimeInterval) {
        let whole = Int(seconds)
        var value = timeval(tv_sec: whole, tv_usec: Int((seconds - Double(whole)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<timeval>.size))
    }
}

/// A minimal HTTP/1.1 exchange on one connection, for long-polling tests.
final class SIOTestHTTP {
    let socket: SIOTestSocket
    let port: Int
    private var buffer: [UInt8] = []

    init(port: Int) throws {
        self.port = port
        self.socket = try SIOTestSocket(port: port)
    }

    /// Sends a request and reads the response (status, body); the body must have a Content-Length.
    func request(_ method: String, _ target: String, body: String = "", timeout: TimeInterval = 5) throws -> (status: Int, body: String) {
        try self.send(method, target, body: body)
        return try self.response(timeout: timeout)
    }

    /// Opens an Engine.IO v4 polling session and joins the main namespace (the CONNECT answer read); returns
    /// the session's request target.
    func openPollingSessionOnMainNamespace() throws -> String {
        let open = try self.request("GET", "/socket.io/?EIO=4&transport=polling")
        let handshake = SIOTestClient.json(String(open.body.dropFirst())) as? [String: Any]
        guard let sid = handshake?["sid"] as? String else { throw SIOTestHTTPError.unexpected(open.body) }
        let target = "/socket.io/?EIO=4&transport=polling&sid=\(sid)"
        guard try self.request("POST", target, body: "40").body == "ok" else { throw SIOTestHTTPError.unexpected("POST 40") }
        let answer = try self.request("GET", target).body
        guard answer.hasPrefix("40{\"sid\"") else { throw SIOTestHTTPError.unexpected(answer) }
        return target
    }

    /// Sends a request without waiting for its response (a long-poll the server holds).
    func send(_ method: String, _ target: String, body: String = "") throws {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(self.port)\r\n"
        if method == "POST" { head += "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: \(body.utf8.count)\r\n" }
        head += "\r\n"
        try self.socket.send(Array((head + body).utf8))
    }

    /// Reads the next response (status, body); the body must have a Content-Length.
    func response(timeout: TimeInterval = 5) throws -> (status: Int, body: String) {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while true {
            if let end = self.headEnd() {
                let headText = String(decoding: self.buffer[..<end], as: UTF8.self)
                let lines = headText.components(separatedBy: "\r\n")
                let status = Int(lines[0].split(separator: " ")[1]) ?? 0
                var length = 0
                for line in lines.dropFirst() {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    if parts.count == 2, parts[0].lowercased() == "content-length" {
                        length = Int(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0
                    }
                }
                let total = end + 4 + length
                if self.buffer.count >= total {
                    let body = String(decoding: self.buffer[(end + 4)..<total], as: UTF8.self)
                    self.buffer.removeFirst(total)
                    return (status, body)
                }
            }
            switch self.socket.receive(deadline: deadline) {
            case .bytes(let bytes): self.buffer += bytes
            case .closed: throw SIOTestError.closed("HTTP response")
            case .timedOut: throw SIOTestError.timedOut("HTTP response")
            }
        }
    }

    private func headEnd() -> Int? {
        guard self.buffer.count >= 4 else { return nil }
        for i in 0...(self.buffer.count - 4)
        where self.buffer[i] == 13 && self.buffer[i + 1] == 10 && self.buffer[i + 2] == 13 && self.buffer[i + 3] == 10 {
            return i
        }
        return nil
    }
}

/// A polling exchange that did not go as a test expected.
enum SIOTestHTTPError: Error {
    case unexpected(String)
}
