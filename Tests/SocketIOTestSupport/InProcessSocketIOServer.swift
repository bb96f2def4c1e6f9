import EngineIO
import Foundation
import HTTPKit
import SocketIO
import Transport

/// An in-process Socket.IO server on 127.0.0.1, shared by the test targets: each keeps a small factory with
/// the defaults its tests rely on (loops, CORS, body limit, app handlers).
public final class InProcessSocketIOServer: Sendable {
    public let engine: EngineServer
    public let io: SocketIOServer
    public let http: HTTPServer
    public let group: EventLoopGroup

    /// Starts on `port` (0: kernel-chosen; a given one lets a test restart a server where clients expect it)
    /// with `loops` event loops. Engine options start from `.socketIO` with production heartbeats (25 s / 20 s)
    /// before `configureEngine` sees them; `setup` registers handlers before the server accepts anything.
    /// With `tls` it serves https/wss. `spread` says how connections are shared among the loops.
    public init(port: Int = 0, loops: Int = 1, tls: TLSServerContext? = nil, spread: ConnectionSpread = .firstWaitingLoop,
                engineOptions configureEngine: (inout EngineServerOptions) -> Void = { _ in },
                options configure: (inout SocketIOServerOptions) -> Void = { _ in },
                setup: (SocketIOServer) -> Void) throws {
        var engineOptions = EngineServerOptions.socketIO
        engineOptions.pingInterval = 25_000
        engineOptions.pingTimeout = 20_000
        configureEngine(&engineOptions)
        var options = SocketIOServerOptions()
        configure(&options)
        let engine = EngineServer(options: engineOptions)
        let io = SocketIOServer(engine: engine, options: options)
        setup(io)
        let group = try EventLoopGroup(loopCount: loops)
        let chain = HTTPHandlerChain([(claims: { @Sendable head in engine.claims(head) }, handler: engine)])
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: port)
        configuration.limits.maxBodySize = engineOptions.maxHttpBufferSize
        configuration.tls = tls
        configuration.connectionSpread = spread
        do {
            self.http = try HTTPServer(configuration: configuration, group: group, handler: chain)
        } catch {
            group.shutdown(timeoutSeconds: 2)
            throw error
        }
        self.engine = engine
        self.io = io
        self.group = group
    }

    /// The port the server listens on.
    public var port: Int { self.http.port }

    /// The base URL clients connect to.
    public var url: String { "\(self.http.isSecure ? "https" : "http")://127.0.0.1:\(self.port)" }

    /// Stops accepting, closes every socket and gives sessions up to 2 s to go before the loops stop.
    public func shutdown() {
        self.http.stopAccepting()
        self.io.close()
        let deadline = Date(timeIntervalSinceNow: 2)
        while self.engine.sessionCount > 0 && Date() < deadline { usleep(5_000) }
        self.group.shutdown(timeoutSeconds: 2)
        // Tests' handlers often use the server itself: let go of them, or the server stays in that cycle.
        self.io.releaseHandlers()
    }
}
