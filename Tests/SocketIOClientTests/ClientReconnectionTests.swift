import EngineIO
import Foundation
@testable import SocketIOClient
import Synchronization
import XCTest

/// Reconnection: after a server restart, backoff timing, giving up, and none after an explicit disconnect.
final class ClientReconnectionTests: XCTestCase {
    func testBackoffFollowsTheJavaScriptFormula() {
        var backoff = Backoff(minMillis: 1000, maxMillis: 5000, jitter: 0.5)
        // random 0.0: even tenth digit, deviation 0 → the bare exponential.
        XCTAssertEqual(backoff.duration(random: 0.0), 1000)
        XCTAssertEqual(backoff.duration(random: 0.0), 2000)
        XCTAssertEqual(backoff.duration(random: 0.0), 4000)
        XCTAssertEqual(backoff.duration(random: 0.0), 5000, "capped at the maximum")
        backoff.reset()
        // random 0.15: floor(1.5) = 1 is odd → ms + floor(0.15 * 0.5 * 1000) = 1075.
        XCTAssertEqual(backoff.duration(random: 0.15), 1075)
        // random 0.25: floor(2.5) = 2 is even → 2000 - floor(0.25 * 0.5 * 2000) = 1750.
        XCTAssertEqual(backoff.duration(random: 0.25), 1750)
        backoff.reset()
        for _ in 0..<2000 { XCTAssertLessThanOrEqual(backoff.duration(), 5000) }
        for _ in 0..<50 {
            var fresh = Backoff(minMillis: 1000, maxMillis: 5000, jitter: 0.5)
            let first = fresh.duration()
            XCTAssertTrue((500...1500).contains(first), "\(first) within ±50%")
        }
    }

    func testReconnectsAfterTheServerRestarts() async throws {
        for transports: [EngineTransport] in [[.websocket], [.polling], [.polling, .websocket]] {
            var server = try ClientTestServer.make()
            let port = server.port
            var options = SocketManagerOptions()
            options.transports = transports
            options.reconnectionDelay = .milliseconds(100)
            options.reconnectionDelayMax = .milliseconds(300)
            let manager = try SocketManager(url: server.url, options: options)
            let recorder = Recorder()
            manager.onEvent { event in recorder.record("manager:\(event)") }
            let main = manager.socket("/")
            let custom = manager.socket("/custom")
            main.onConnect { recorder.record("main:connect") }
            main.onDisconnect { recorder.record("main:disconnect:\($0)") }
            custom.onConnect { recorder.record("custom:connect") }
            try await main.waitForConnection()
            try await custom.waitForConnection()
            let firstID = main.id

            server.shutdown()
            XCTAssertTrue(recorder.wait { $0.contains { $0.hasPrefix("main:disconnect:") } }, "\(transports): disconnect seen")
            let reason = recorder.all.first { $0.hasPrefix("main:disconnect:") }
            XCTAssertTrue(reason == "main:disconnect:transport close" || reason == "main:disconnect:transport error", "\(reason ?? "")")
            try await Task.sleep(for: .milliseconds(300))

            server = try ClientTestServer.make(port: port)
            XCTAssertTrue(recorder.wait(timeout: 15) { $0.filter { $0 == "main:connect" }.count == 2 && $0.filter { $0 == "custom:connect" }.count == 2 },
                          "\(transports): both namespaces reconnected: \(recorder.all)")
            XCTAssertTrue(recorder.all.contains { $0.hasPrefix("manager:reconnect(") })
            XCTAssertNotEqual(main.id, firstID)
            let answer = try await custom.emitWithAck("echo-ack", "after-restart")
            XCTAssertEqual(answer, ["after-restart"])
            manager.disconnect()
            server.shutdown()
        }
    }

    func testBackoffTimingAndGivingUp() async throws {
        // A port where nothing listens: every attempt is refused at once.
        let probe = try ClientTestServer.make()
        let port = probe.port
        probe.shutdown()
        var options = SocketManagerOptions()
        options.transports = [.websocket]
        options.reconnectionDelay = .milliseconds(100)
        options.reconnectionDelayMax = .milliseconds(400)
        options.randomizationFactor = 0
        options.reconnectionAttempts = 4
        // Connected by hand once the handlers are in place: the first refusal is immediate.
        options.autoConnect = false
        let manager = try SocketManager(url: "http://127.0.0.1:\(port)", options: options)
        let stamps = TimedRecorder()
        manager.onEvent { event in
            switch event {
            case .error: stamps.record("error")
            case .reconnectAttempt(let n): stamps.record("attempt:\(n)")
            case .reconnectFailed: stamps.record("failed")
            default: break
            }
        }
        let socket = manager.socket("/")
        let errors = Recorder()
        socket.onConnectError { errors.record("\($0.kind)") }
        socket.connect()
        XCTAssertTrue(stamps.wait(timeout: 15) { $0.contains { $0.0 == "failed" } })
        let entries = stamps.all
        XCTAssertEqual(entries.map(\.0), ["error", "attempt:1", "error", "attempt:2", "error", "attempt:3", "error", "attempt:4", "error", "failed"])
        // Gaps between each error and the next attempt: 100, 200, 400, 400 ms (no jitter).
        let expected = [100.0, 200.0, 400.0, 400.0]
        for (index, delay) in expected.enumerated() {
            let error = entries[index * 2].1
            let attempt = entries[index * 2 + 1].1
            let gap = attempt.timeIntervalSince(error) * 1000
            XCTAssertGreaterThanOrEqual(gap, delay - 5, "attempt \(index + 1)")
            // Generous: a loaded machine may run a timer late, never early.
            XCTAssertLessThan(gap, delay + 2000, "attempt \(index + 1)")
        }
        // The socket hears of the last failed attempt on its own path, possibly just after the manager's
        // "failed": wait for it with a deadline.
        XCTAssertTrue(errors.wait(timeout: 10) { $0.count >= 5 }, "\(errors.all)")
        XCTAssertEqual(errors.all.count, 5)
        XCTAssertTrue(errors.all.allSatisfy { $0 == "transport" })
        // Nothing more after giving up.
        try await Task.sleep(for: .milliseconds(600))
        XCTAssertEqual(stamps.all.count, entries.count)
        manager.disconnect()
    }

    func testNoReconnectionAfterManagerDisconnect() async throws {
        let server = try ClientTestServer.make()
        defer { server.shutdown() }
        var options = SocketManagerOptions()
        options.reconnectionDelay = .milliseconds(50)
        let manager = try SocketManager(url: server.url, options: options)
        let recorder = Recorder()
        manager.onEvent { recorder.record("\($0)") }
        let socket = manager.socket("/")
        socket.onDisconnect { recorder.record("disconnect:\($0)") }
        try await socket.waitForConnection()
        manager.disconnect()
        XCTAssertTrue(recorder.wait(for: "disconnect:io client disconnect"))
        try await Task.sleep(for: .milliseconds(400))
        XCTAssertFalse(recorder.all.contains { $0.hasPrefix("reconnect") })
        XCTAssertFalse(socket.isConnected)
        XCTAssertEqual(server.engine.sessionCount, 0)
    }

    /// A failure that nothing retries is kept: waiting after it happened fails at once with it, instead of
    /// running into the wait's timeout (the listeners of the wait did not exist yet when it happened).
    func testWaitingAfterAFinalFailureReportsIt() async throws {
        let probe = try ClientTestServer.make()
        let port = probe.port
        probe.shutdown()
        var options = SocketManagerOptions()
        options.reconnection = false
        options.autoConnect = false
        let manager = try SocketManager(url: "http://127.0.0.1:\(port)", options: options)
        let recorder = Recorder()
        let socket = manager.socket("/")
        socket.onConnectError { recorder.record("error:\($0.kind)") }
        socket.connect()
        XCTAssertTrue(recorder.wait(for: "error:transport"))
        let start = ContinuousClock.now
        do {
            try await socket.waitForConnection(timeout: .seconds(30))
            XCTFail("connected to a closed port")
        } catch let error as ClientConnectError {
            XCTAssertEqual(error.kind, .transport, error.message)
        }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(10), "answered by the stored failure, not the timeout")
        // A new attempt forgets the old failure: it fails again on its own.
        socket.connect()
        XCTAssertTrue(recorder.wait { $0.filter { $0 == "error:transport" }.count == 2 })
        manager.disconnect()
    }

    func testInitialConnectionRetriesUntilTheServerAppears() async throws {
        let probe = try ClientTestServer.make()
        let port = probe.port
        probe.shutdown()
        var options = SocketManagerOptions()
        options.reconnectionDelay = .milliseconds(100)
        options.reconnectionDelayMax = .milliseconds(200)
        let manager = try SocketManager(url: "http://127.0.0.1:\(port)", options: options)
        let socket = manager.socket("/")
        try await Task.sleep(for: .milliseconds(350))
        XCTAssertFalse(socket.isConnected)
        let server = try ClientTestServer.make(port: port)
        defer { server.shutdown() }
        try await socket.waitForConnection(timeout: .seconds(15))
        XCTAssertTrue(socket.isConnected)
        manager.disconnect()
    }
}

/// Records entries with their time.
final class TimedRecorder: Sendable {
    private let entries = Mutex<[(String, Date)]>([])

    func record(_ entry: String) { self.entries.withLock { $0.append((entry, Date())) } }

    var all: [(String, Date)] { self.entries.withLock { $0 } }

    func wait(timeout: TimeInterval, until condition: ([(String, Date)]) -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            if condition(self.all) { return true }
            usleep(2_000)
        }
        return condition(self.all)
    }
}
