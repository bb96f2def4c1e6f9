import EngineIO
import HTTPKit
import Transport

/// Options of a `SocketManager` (one connection to a server), after the JavaScript client's `ManagerOptions`.
public struct SocketManagerOptions: Sendable {
    /// The request path of the server (`/socket.io/` unless the server changed it).
    public var path = "/socket.io/"
    /// Transports to use; the first opens the session. `[.websocket]` is websocket-only, `[.polling]`
    /// polling-only.
    public var transports: [EngineTransport] = [.polling, .websocket]
    /// Whether a polling session upgrades to WebSocket when the server offers it.
    public var upgrade = true
    /// Extra query parameters sent with every request.
    public var query: [(name: String, value: String)] = []
    /// Extra HTTP headers sent with every request and the WebSocket handshake (e.g. `Authorization`).
    public var extraHeaders: [(name: String, value: String)] = []
    /// Offer permessage-deflate compression on WebSocket connections.
    public var perMessageDeflate = false
    /// Messages under this many bytes go out uncompressed even with deflate negotiated (1,024, as `ws`).
    public var perMessageDeflateThreshold = PerMessageDeflate.defaultThreshold
    /// Largest message accepted from the server, in bytes.
    public var maxMessageSize = 100 * 1024 * 1024

    /// Whether to reconnect automatically after the connection is lost.
    public var reconnection = true
    /// How many reconnection attempts before giving up (`Int.max`: never give up).
    public var reconnectionAttempts = Int.max
    /// The first reconnection delay; each further attempt doubles it.
    public var reconnectionDelay: Duration = .seconds(1)
    /// The longest reconnection delay.
    public var reconnectionDelayMax: Duration = .seconds(5)
    /// Jitter: each delay is moved randomly by up to this fraction of itself (0...1).
    public var randomizationFactor = 0.5
    /// How long opening a connection may take before the attempt counts as failed.
    public var timeout: Duration = .seconds(20)
    /// Whether `socket(_:)` connects the socket at once.
    public var autoConnect = true

    /// How https/wss servers are verified: the system trust store, extra CA files, host name checks.
    public var tls = TLSConfiguration()
    /// Opens the byte streams instead of the built-in TCP/TLS connectors (e.g. a proxy tunnel).
    public var connector: (any ClientStreamConnector)?

    /// Options with the JavaScript client's defaults.
    public init() {}
}

/// Options of one `ClientSocket` (one namespace).
public struct ClientSocketOptions: Sendable {
    /// The auth payload sent with CONNECT (read by the server's middleware as `socket.handshake.auth`).
    public var auth: JSONObject?
    /// Called before each CONNECT (first connection and every reconnection) to produce a fresh auth
    /// payload; takes precedence over `auth`. Runs on the connection's event loop.
    public var authProvider: (@Sendable () -> JSONObject?)?
    /// Whether events emitted while disconnected are kept and sent once connected (the JavaScript
    /// client always does). With false they are dropped.
    public var bufferWhileDisconnected = true
    /// The timeout of `emitWithAck` when none is given per call.
    public var ackTimeout: Duration = .seconds(30)

    /// Default options.
    public init(auth: JSONObject? = nil) {
        self.auth = auth
    }
}

extension Duration {
    /// Whole milliseconds, clamped to `Int`.
    var milliseconds: Int {
        let (seconds, attoseconds) = self.components
        let millis = Double(seconds) * 1000 + Double(attoseconds) / 1e15
        return Int(max(0, min(Double(Int.max / 2), millis.rounded())))
    }
}
