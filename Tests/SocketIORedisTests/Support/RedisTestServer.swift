import Foundation
import Glibc
import Redis
import Transport

/// A throwaway `redis-server` listening on a unix socket in its own temporary folder (no TCP port, so no
/// port to race for), without persistence. `stop()` ends it and removes the folder.
final class RedisTestServer: @unchecked Sendable {
    // Owned by one test's thread.
    let folder: URL
    private let process = Process()

    var socketPath: String { self.folder.appendingPathComponent("redis.sock").path }
    /// The URL our clients connect with.
    var url: String { "unix://" + self.socketPath }

    init() throws {
        self.folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("sio-redis-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: self.folder, withIntermediateDirectories: true)
        self.process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        self.process.arguments = ["--port", "0", "--unixsocket", self.socketPath, "--unixsocketperm", "700",
                                  "--save", "", "--appendonly", "no", "--dir", self.folder.path,
                                  "--logfile", self.folder.appendingPathComponent("redis.log").path]
        self.process.standardOutput = FileHandle.nullDevice
        self.process.standardError = FileHandle.nullDevice
        try self.process.run()
    }

    /// Waits (at most `seconds`) until the server answers PING through our own client.
    func waitUntilReady(loop: EventLoop, seconds: Double = 10) async throws {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: self.socketPath) {
                var configuration = try RedisConfiguration(url: self.url)
                configuration.connectTimeoutMillis = 500
                configuration.commandTimeoutMillis = 500
                let client = RedisClient(configuration: configuration, loop: loop)
                client.connect()
                let reply = try? await client.send(["PING"])
                client.close()
                if case .simpleString("PONG")? = reply { return }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw RedisTestServerError.notReady
    }

    /// Kills the server: SIGKILL, since a child spawned from a thread that blocks SIGTERM (our event loops
    /// do) inherits the block, and it has nothing to save anyway.
    func stop() {
        if self.process.isRunning {
            kill(self.process.processIdentifier, SIGKILL)
            self.process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: self.folder)
    }
}

enum RedisTestServerError: Error {
    case notReady
    case timedOut(String)
}
