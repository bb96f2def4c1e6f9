import EngineIO
import Foundation
import HTTPKit
import Synchronization
import Transport

/// An in-process Engine.IO echo server on 127.0.0.1 and a kernel-chosen port, as `eio-echo` runs it for
/// the official engine.io-protocol test suite: path `/engine.io/`, pingInterval 300, pingTimeout 200,
/// maxPayload 1000000, CORS any, every message echoed back as it came. Two loops, so requests of one
/// session regularly arrive on a loop other than the session's own.
///
///     let server = try TestEngineServer()
///     defer { server.shutdown() }
///     let response = try TestHTTPClient.request(port: server.port, method: "GET", target: server.pollingTarget())
final class TestEngineServer: Sendable {
    /// The test-suite configuration.
    static func testSuiteOptions() -> EngineServerOptions {
        var options = EngineServerOptions()
        options.path = "/engine.io/"
        options.pingInterval = 300
        options.pingTimeout = 200
        options.maxHttpBufferSize = 1_000_000
        options.cors = .any
        return options
    }

    let engine: EngineServer
    let http: HTTPServer
    let group: EventLoopGroup
    private let log = TestSessionLog()

    /// Starts the server; `configure` may adjust the test-suite options (e.g. a long ping interval for
    /// tests that are not about the heartbeat).
    init(loops: Int = 2, spread: ConnectionSpread = .firstWaitingLoop, configure: (inout EngineServerOptions) -> Void = { _ in }) throws {
        var options = Self.testSuiteOptions()
        configure(&options)
        let engine = EngineServer(options: options)
        let group = try EventLoopGroup(loopCount: loops)
        self.engine = engine
        self.group = group
        let delegate = TestEchoDelegate()
        let claims: @Sendable (HTTPRequestHead) -> Bool = { engine.claims($0) }
        let chain = HTTPHandlerChain([(claims: claims, handler: engine)])
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.limits.maxBodySize = options.maxHttpBufferSize
        configuration.connectionSpread = spread
        do {
            self.http = try HTTPServer(configuration: configuration, group: group, handler: chain)
        } catch {
            group.shutdown(timeoutSeconds: 2)
            throw error
        }
        let log = self.log
        delegate.log = log
        engine.onConnection = { session in
            session.delegate = delegate
            log.opened(session)
        }
    }

    var port: Int { self.http.port }

    /// The session with this id, while known (kept after it closes).
    func session(_ id: String) -> EngineSession? { self.log.session(id) }

    /// Why the session ended, once it has.
    func closeReason(_ id: String) -> EngineCloseReason? { self.log.closeReason(id) }

    /// Runs `body` on the session's loop (sessions are loop-confined).
    func onLoop(of id: String, _ body: @escaping @Sendable (EngineSession) -> Void) {
        guard let session = self.session(id) else { return }
        session.loop.execute { body(session) }
    }

    /// `/engine.io/?EIO=4&transport=...` plus `sid` when given.
    func target(transport: String = "polling", sid: String? = nil) -> String {
        var target = "/engine.io/?EIO=4&transport=\(transport)"
        if let sid { target += "&sid=\(sid)" }
        return target
    }

    func pollingTarget(sid: String? = nil) -> String { self.target(transport: "polling", sid: sid) }
    func websocketTarget(sid: String? = nil) -> String { self.target(transport: "websocket", sid: sid) }

    /// Stops accepting, closes every session and stops the loops.
    func shutdown() {
        self.http.stopAccepting()
        self.engine.closeAllSessions()
        // The closes run as loop tasks; one round trip through every loop lets them (and the close frames
        // they write) go out before the loops stop. Polling sessions without a poll would wait for their
        // close timeout, which a test has no reason to sit through.
        self.drainLoops()
        self.group.shutdown(timeoutSeconds: 2)
    }
}

/// The sessions a server opened and how they ended (kept out of `TestEngineServer` itself so that the
/// engine's `onConnection` closure does not retain the server).
private final class TestSessionLog: Sendable {
    private let sessions = Mutex<[String: EngineSession]>([:])
    private let reasons = Mutex<[String: EngineCloseReason]>([:])

    func opened(_ session: EngineSession) { self.sessions.withLock { $0[session.id] = session } }
    func closed(_ id: String, reason: EngineCloseReason) { self.reasons.withLock { $0[id] = reason } }
    func session(_ id: String) -> EngineSession? { self.sessions.withLock { $0[id] } }
    func closeReason(_ id: String) -> EngineCloseReason? { self.reasons.withLock { $0[id] } }
}

/// Echoes every message back on its session and records how sessions end.
private final class TestEchoDelegate: EngineSessionDelegate, @unchecked Sendable {
    // Invariant: `log` is set once before the server accepts anything; the rest is stateless.
    var log: TestSessionLog?

    func session(_ session: EngineSession, didReceiveText text: ArraySlice<UInt8>) {
        session.send(text: text)
    }

    func session(_ session: EngineSession, didReceiveBinary bytes: [UInt8]) {
        session.send(binary: bytes)
    }

    func sessionDidClose(_ session: EngineSession, reason: EngineCloseReason) {
        self.log?.closed(session.id, reason: reason)
    }
}
