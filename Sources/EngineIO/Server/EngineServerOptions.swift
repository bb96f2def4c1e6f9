import HTTPKit

/// The transports a server offers.
public enum EngineTransport: String, Sendable, CaseIterable {
    case polling
    case websocket
}

/// Cross-origin settings for browser clients, as Node's `cors` option.
public struct CORSOptions: Sendable {
    /// Allowed origins; nil means any (`*`, or the request's origin when credentials are allowed).
    public var origins: [String]?
    /// Sends `Access-Control-Allow-Credentials: true` (the origin is then echoed, never `*`).
    public var credentials: Bool
    /// Methods announced in preflight answers.
    public var methods: [String]

    /// Allows `origins` (nil: any, reflecting the request's origin), with or without credentials.
    public init(origins: [String]? = nil, credentials: Bool = false, methods: [String] = ["GET", "POST"]) {
        self.origins = origins
        self.credentials = credentials
        self.methods = methods
    }

    /// Any origin, as `cors: { origin: "*" }`.
    public static let any = CORSOptions()
}

/// The optional session cookie (`io=<sid>`), as Node's `cookie` option.
public struct EngineCookieOptions: Sendable {
    /// The cookie's name.
    public var name: String
    /// The cookie's `Path`.
    public var path: String
    /// Whether the cookie carries `HttpOnly`.
    public var httpOnly: Bool
    /// The cookie's `SameSite` value; nil leaves it out.
    public var sameSite: String?

    /// A session cookie as Node's `cookie: true` sets it, by default.
    public init(name: String = "io", path: String = "/", httpOnly: Bool = true, sameSite: String? = "Lax") {
        self.name = name
        self.path = path
        self.httpOnly = httpOnly
        self.sameSite = sameSite
    }
}

/// What `allowRequest` decides for a handshake.
public enum EngineAdmission: Sendable {
    case allow
    /// Refuse with error 4 ("Forbidden") and an optional message.
    case deny(message: String?)
}

/// Settings of an Engine.IO server, with Node's engine.io defaults.
public struct EngineServerOptions: Sendable {
    /// Path the server answers under, with a trailing slash.
    public var path: String = "/engine.io/"
    /// Milliseconds between server pings.
    public var pingInterval: Int = 25_000
    /// Milliseconds to wait for a pong before closing.
    public var pingTimeout: Int = 20_000
    /// Milliseconds an upgrade may take before the probe transport is dropped.
    public var upgradeTimeout: Int = 10_000
    /// Largest message or polling body accepted, in bytes.
    public var maxHttpBufferSize: Int = 1_000_000
    /// Transports offered, in order of preference.
    public var transports: [EngineTransport] = [.polling, .websocket]
    /// Whether polling sessions are told they may upgrade.
    public var allowUpgrades = true
    /// Most packets per polling response: unmodified python-engineio clients reject longer payloads.
    public var maxPacketsPerPoll = 16
    /// Cross-origin settings; nil sends no CORS headers.
    public var cors: CORSOptions?
    /// Session cookie; nil sets none (Node's default).
    public var cookie: EngineCookieOptions?
    /// Whether WebSocket permessage-deflate is negotiated when offered.
    public var perMessageDeflate = false
    /// With `perMessageDeflate`, messages shorter than this many bytes (Engine.IO packet type included)
    /// are sent uncompressed, as Node's `perMessageDeflate.threshold` (default 1024).
    public var perMessageDeflateThreshold = PerMessageDeflate.defaultThreshold
    /// Decides whether a handshake may proceed (runs on a loop thread: keep it quick).
    public var allowRequest: (@Sendable (HTTPRequest) -> EngineAdmission)?
    /// Time a polling session may wait for its closing poll before it is dropped.
    public var closeTimeout: Int = 30_000
    /// Whether Engine.IO v3 clients (`EIO=3`: Socket.IO v2 clients, python-socketio 4) are served next to
    /// v4 ones, as Node's `allowEIO3`. Off by default; a refused v3 client gets error 5.
    public var allowEIO3 = false
    /// Most bytes queued for a client that does not take them before its session is closed with
    /// "transport error" (uWebSockets' `maxBackpressure`; Node has no such cap). For WebSocket it is the
    /// connection's backlog after the kernel refused more (`TCPConnection.maxBackpressure`); for polling,
    /// the packets waiting for a poll beyond the largest one. One message of any size is still delivered to a
    /// client that reads. 0 means no cap.
    public var maxBackpressure: Int = 1 << 20

    /// Node's defaults.
    public init() {}
}

/// One server's options behind a reference, so that its sessions share them.
final class EngineSharedOptions: Sendable {
    let value: EngineServerOptions
    /// Heads of polling answers (data, and POST's "ok") when no CORS headers make them depend on the
    /// handshake: one pair for the server instead of one per polling session (about 270 bytes a session).
    let pollHead: HTTPPreparedHead?
    let postHead: HTTPPreparedHead?

    /// Content types of the polling answers.
    static let pollContentType = "text/plain; charset=UTF-8"
    static let postContentType = "text/html"

    init(_ value: EngineServerOptions) {
        self.value = value
        guard value.cors == nil else {
            self.pollHead = nil
            self.postHead = nil
            return
        }
        self.pollHead = HTTPPreparedHead(headers: ["Content-Type": Self.pollContentType])
        self.postHead = HTTPPreparedHead(headers: ["Content-Type": Self.postContentType])
    }
}
