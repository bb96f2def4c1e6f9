import Foundation
import Glibc

/// A real `redis-server` for one test: its own free port and temporary directory, no persistence, stopped
/// (and its directory removed) by `stop()`. Readiness is a PING answered within a bounded deadline.
final class RedisServerProcess: @unchecked Sendable {
    // Used by one test at a time, on its own thread.
    let port: Int
    let directory: String
    /// The unix socket path when started with `unixSocket: true`.
    let socketPath: String?
    private let extraArguments: [String]
    private var process: Process?

    /// Prepares a server on a free port (or `port`) with `extraArguments` appended to its command line.
    init(port: Int? = nil, unixSocket: Bool = false, extraArguments: [String] = []) throws {
        self.port = try port ?? Self.freePort()
        self.directory = NSTemporaryDirectory() + "redis-test-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        self.socketPath = unixSocket ? self.directory + "/redis.sock" : nil
        self.extraArguments = extraArguments
    }

    /// Starts the server and waits until it answers PING (or refuses it for want of a password).
    func start(timeoutSeconds: Double = 10) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        var arguments = [
            "--port", String(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", self.directory, "--logfile", self.directory + "/redis.log", "--daemonize", "no",
        ]
        if let socketPath = self.socketPath { arguments += ["--unixsocket", socketPath, "--unixsocketperm", "700"] }
        arguments += self.extraArguments
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if !process.isRunning { throw RedisServerError.exited(self.logTail()) }
            if Self.answersPing(port: self.port) { return }
            usleep(20_000)
        }
        throw RedisServerError.notReady(self.logTail())
    }

    /// Kills the server at once (SIGKILL), as a crash would; `start()` brings it back on the same port.
    func kill() {
        guard let process = self.process else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    /// Stops the server and removes its directory. SIGKILL: there is nothing to save, and a child started from
    /// a test process may inherit a signal mask that blocks SIGTERM.
    func stop() {
        self.kill()
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    /// `redis://127.0.0.1:<port>` plus `suffix` (e.g. `/3`).
    func url(userInfo: String? = nil, suffix: String = "") -> String {
        "redis://\(userInfo.map { $0 + "@" } ?? "")127.0.0.1:\(self.port)\(suffix)"
    }

    private func logTail() -> String {
        let log = (try? String(contentsOfFile: self.directory + "/redis.log", encoding: .utf8)) ?? ""
        return String(log.suffix(2000))
    }

    /// A port nobody listens on right now (the kernel picks it; it is released before use).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RedisServerError.noPort }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa -> Bool in
                bind(fd, sa, length) == 0 && getsockname(fd, sa, &length) == 0
            }
        }
        guard bound else { throw RedisServerError.noPort }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// One blocking PING with a short timeout: any reply (`+PONG`, `-NOAUTH`) means the server is up.
    static func answersPing(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 0, tv_usec: 500_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { return false }
        let ping: [UInt8] = Array("PING\r\n".utf8)
        guard send(fd, ping, ping.count, Int32(MSG_NOSIGNAL)) == ping.count else { return false }
        var reply = [UInt8](repeating: 0, count: 64)
        let count = recv(fd, &reply, reply.count, 0)
        // -LOADING means the server is up but not ready yet.
        return count > 0 && !String(decoding: reply[0..<count], as: UTF8.self).hasPrefix("-LOADING")
    }
}

enum RedisServerError: Error {
    case noPort
    case exited(String)
    case notReady(String)
}
