import Foundation
import Synchronization

/// A Socket.IO server with its HTTP routes in one value: the event loops, the HTTP server, Engine.IO and
/// Socket.IO, and a graceful stop on SIGINT/SIGTERM.
///
///     let app = try SocketIOApp(port: 3000)
///     app.router.get("/") { _ in .html("<h1>Hello</h1>") }
///     app.io.on(.connection) { socket in
///         socket.on("chat") { args, _ in app.io.emit("chat", arguments: args) }
///     }
///     try await app.run()
///
/// Socket.IO answers on `engineOptions.path` (`/socket.io/`); the router gets every other request.
/// Register handlers before `start()` or `run()`: the port is bound there.
public final class SocketIOApp: Sendable {
    /// The Socket.IO server (Node's `io`).
    public let io: SocketIOServer
    /// The routes served beside Socket.IO; unmatched paths answer 404.
    public let router: Router
    /// The Engine.IO server under `io`.
    public let engine: EngineServer
    /// The event loops serving every connection.
    public let group: EventLoopGroup
    private let configuration: HTTPServerConfiguration
    /// The body limit of requests the router gets (nil: the HTTP server's `limits.maxBodySize`).
    private let routerMaxBodySize: Int?
    /// Whether a failed bind on `::` (no IPv6 on this machine) retries on `0.0.0.0`.
    private let fallsBackToIPv4: Bool
    private let state = Mutex(State())

    private struct State {
        var server: HTTPServer?
        var stopRequested = false
        var stopped = false
        var waiters: [CheckedContinuation<Void, Never>] = []
        var shutdownHooks: [(phase: ShutdownPhase, hook: @Sendable () async -> Void)] = []
        /// SIGINT/SIGTERM stop the app from the moment the port is bound (a supervisor may stop a server as
        /// soon as it announced its port, before `run()` was reached).
        var signals: TerminationSignals.Registration?
    }

    /// When a hook added with `onShutdown(_:_:)` runs during the graceful stop.
    public enum ShutdownPhase: Sendable, CaseIterable {
        /// The listener is closed but every socket is still connected: finish or hand back work in flight
        /// (requests, jobs) while clients can still be told about it.
        case beforeDisconnect
        /// Every socket was just disconnected, connections may still be closing: leave a cluster.
        case afterDisconnect
        /// The connections closed (or `drainSeconds` passed), the loops still run: close a database.
        case afterDrain
    }

    /// An app listening on `host` (default `::`, which also serves IPv4; `0.0.0.0` where IPv6 is missing)
    /// and `port` (0 picks a free one, see `port`), with `loops` event loops (default: one per core),
    /// Socket.IO `options`, Engine.IO `engineOptions`, and https/wss when `tls` is given.
    public convenience init(host: String? = nil, port: Int = 3000, loops: Int? = nil, tls: TLSServerContext? = nil,
                            options: SocketIOServerOptions = SocketIOServerOptions(),
                            engineOptions: EngineServerOptions = .socketIO) throws {
        var configuration = HTTPServerConfiguration(host: host ?? "::", port: port)
        configuration.tls = tls
        configuration.limits.maxBodySize = max(configuration.limits.maxBodySize, engineOptions.maxHttpBufferSize)
        let group = try loops.map { try EventLoopGroup(loopCount: $0) } ?? EventLoopGroup()
        self.init(configuration, fallsBackToIPv4: host == nil, group: group, router: Router(), routerMaxBodySize: nil,
                  options: options, engineOptions: engineOptions)
    }

    /// An app with every HTTP setting given (`trustProxy`, limits, timeouts, `maxBackpressure`, TLS); host
    /// `::` falls back to `0.0.0.0` on a machine without IPv6.
    public convenience init(http configuration: HTTPServerConfiguration, loops: Int? = nil,
                            options: SocketIOServerOptions = SocketIOServerOptions(),
                            engineOptions: EngineServerOptions = .socketIO) throws {
        let group = try loops.map { try EventLoopGroup(loopCount: $0) } ?? EventLoopGroup()
        self.init(configuration, fallsBackToIPv4: configuration.host == "::", group: group, router: Router(),
                  routerMaxBodySize: nil, options: options, engineOptions: engineOptions)
    }

    /// An app on event loops made beforehand (`group`, shared with other clients such as a Redis adapter's
    /// connection, which `options.adapter` may need; stopped when the app stops), serving `router` (say one
    /// with an `onError` logger) with request bodies up to `routerMaxBodySize` (nil: `limits.maxBodySize`).
    public convenience init(http configuration: HTTPServerConfiguration, group: EventLoopGroup,
                            router: Router = Router(), routerMaxBodySize: Int? = nil,
                            options: SocketIOServerOptions = SocketIOServerOptions(),
                            engineOptions: EngineServerOptions = .socketIO) {
        self.init(configuration, fallsBackToIPv4: configuration.host == "::", group: group, router: router,
                  routerMaxBodySize: routerMaxBodySize, options: options, engineOptions: engineOptions)
    }

    private init(_ configuration: HTTPServerConfiguration, fallsBackToIPv4: Bool, group: EventLoopGroup, router: Router,
                 routerMaxBodySize: Int?, options: SocketIOServerOptions, engineOptions: EngineServerOptions) {
        self.configuration = configuration
        self.fallsBackToIPv4 = fallsBackToIPv4
        self.routerMaxBodySize = routerMaxBodySize
        // Server malloc settings: large freed buffers back to the system, a bounded number of arenas.
        ServerMalloc.configure()
        self.group = group
        let engine = EngineServer(options: engineOptions)
        self.engine = engine
        self.io = SocketIOServer(engine: engine, options: options)
        self.router = router
    }

    /// The port bound, once started (0 before).
    public var port: Int { self.state.withLock { $0.server?.port ?? 0 } }

    /// Binds the port and starts serving (once; later calls return the same port). Returns the port bound.
    @discardableResult
    public func start() throws -> Int {
        try self.state.withLock { state in
            if let server = state.server { return server.port }
            let engine = self.engine
            let chain = HTTPHandlerChain([(claims: { @Sendable head in engine.claims(head) }, handler: engine)],
                                         fallback: HTTPServerHandlerAdapter(self.router, maxBodySize: self.routerMaxBodySize))
            let server: HTTPServer
            do {
                server = try HTTPServer(configuration: self.configuration, group: self.group, handler: chain)
            } catch where self.fallsBackToIPv4 {
                var ipv4 = self.configuration
                ipv4.host = "0.0.0.0"
                server = try HTTPServer(configuration: ipv4, group: self.group, handler: chain)
            }
            state.server = server
            state.signals = TerminationSignals.install { [weak self] _ in self?.stop() }
            return server.port
        }
    }

    /// Starts serving (unless `start()` did) and returns once the app stopped: after SIGINT or SIGTERM (a
    /// second signal exits at once), or after `stop()`. Stopping closes the listener, runs the
    /// `.beforeDisconnect` hooks, disconnects every socket ("server shutting down"), runs the `.afterDisconnect`
    /// hooks, gives connections up to `drainSeconds` to close, runs the `.afterDrain` hooks, then stops the loops.
    public func run(drainSeconds: Double = 3) async throws {
        try self.start()
        // A "listening on…" line printed before `run()` reaches a pipe (a supervisor, a test) now, not at exit.
        fflush(nil)
        await self.waitForStopRequest()
        await self.shutdown(drainSeconds: drainSeconds)
    }

    /// Adds work for the graceful stop, run at `phase` (default: once every socket was disconnected and the
    /// connections drained, before the loops stop: close a database…). Hooks of a phase run in the order added.
    public func onShutdown(_ phase: ShutdownPhase = .afterDrain, _ hook: @escaping @Sendable () async -> Void) {
        self.state.withLock { $0.shutdownHooks.append((phase, hook)) }
    }

    /// Asks a running `run()` to stop and return (from any thread).
    public func stop() {
        let waiters = self.state.withLock { state in
            state.stopRequested = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func waitForStopRequest() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = self.state.withLock { state in
                if state.stopRequested { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// The graceful stop `run()` ends with (once).
    private func shutdown(drainSeconds: Double) async {
        let stopping: (HTTPServer, [(phase: ShutdownPhase, hook: @Sendable () async -> Void)])? = self.state.withLock { state in
            guard !state.stopped, let server = state.server else { return nil }
            state.stopped = true
            return (server, state.shutdownHooks)
        }
        guard let (server, hooks) = stopping else { return }
        func runHooks(_ phase: ShutdownPhase) async {
            for entry in hooks where entry.phase == phase { await entry.hook() }
        }
        server.stopAccepting()
        await runHooks(.beforeDisconnect)
        self.io.close()
        await runHooks(.afterDisconnect)
        let deadline = ContinuousClock.now + .milliseconds(Int(drainSeconds * 1000))
        while self.engine.sessionCount > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        await runHooks(.afterDrain)
        self.group.shutdown(timeoutSeconds: 2)
        // Stopped for good: handlers and hooks that refer to the app (`app.io.to(...)` inside a handler) would
        // otherwise keep it, its loops' buffers and its namespaces alive after the application dropped it.
        self.io.releaseHandlers()
        self.state.withLock { $0.shutdownHooks.removeAll() }
    }
}
