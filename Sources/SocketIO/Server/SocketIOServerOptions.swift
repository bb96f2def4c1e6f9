import EngineIO

/// Settings of a Socket.IO server, with Node's defaults.
public struct SocketIOServerOptions: Sendable {
    /// Milliseconds a client has to connect to a namespace before its connection is closed.
    public var connectTimeout: Int = 45_000
    /// Whether a dynamic child namespace is removed once its last socket left.
    public var cleanupEmptyChildNamespaces = false
    /// Most binary attachments accepted in one packet.
    public var maxAttachments = 10
    /// Builds the adapter of each namespace (default: `InMemoryAdapter`).
    public var adapter: SocketAdapterFactory = { InMemoryAdapter(namespace: $0) }
    /// Connection state recovery; off (nil) by default, as in Node. The adapter keeps the sessions and
    /// packets: `InMemoryAdapter` and the Redis adapter do, other adapters may not.
    public var connectionStateRecovery: ConnectionStateRecoveryOptions?
    /// Whether `<path>socket.io.js` (and `.min.js`) serves our browser client, as Node's `serveClient`
    /// (on by default); off, those requests get Engine.IO's answer to an unknown transport (400).
    public var serveClient = true

    /// Node's defaults.
    public init() {}
}

extension EngineServerOptions {
    /// Engine.IO options as Socket.IO uses them: path `/socket.io/`, everything else Node's default.
    public static var socketIO: EngineServerOptions {
        var options = EngineServerOptions()
        options.path = "/socket.io/"
        return options
    }
}
