import Transport

/// Where and how to connect: `redis://[user:password@]host[:port][/db]`, `rediss://...` (TLS, system OpenSSL,
/// verifying the server by default), `unix:///path/redis.sock[?db=N]`.
public struct RedisConfiguration: Sendable {
    /// Where the server listens.
    public enum Endpoint: Sendable, Hashable {
        /// A host name or address (IPv6 with or without brackets) and a port.
        case tcp(host: String, port: Int)
        /// A unix domain socket.
        case unix(path: String)
    }

    /// Which protocol the handshake asks for.
    public enum ProtocolVersion: Sendable, Hashable {
        /// `HELLO 3`, falling back to RESP2 (AUTH, SELECT) on servers that do not know HELLO (before Redis 6).
        case resp3IfAvailable
        /// RESP2 only: AUTH and SELECT, no HELLO.
        case resp2
    }

    /// Where the server listens.
    public var endpoint: Endpoint
    /// TLS over the TCP connection (`rediss://`).
    public var useTLS = false
    /// The ACL user; nil with a password means the `default` user (`AUTH password`).
    public var username: String?
    /// The password for AUTH (or HELLO's AUTH); nil for none.
    public var password: String?
    /// The database selected after connecting (`SELECT`), 0 by default.
    public var database = 0
    /// The bound on opening the socket, TLS and the handshake together.
    public var connectTimeoutMillis = 5_000
    /// The bound on each command's reply (0 = none).
    public var commandTimeoutMillis = 5_000
    /// How many commands may wait while disconnected or before the first connect; more fail with `.queueFull`.
    public var maxQueuedCommands = 10_000
    /// How many bytes of commands may wait in the connection's output (a server or network slower than the
    /// commands come); beyond it commands fail with `.queueFull` rather than use memory without bound.
    public var maxOutputBufferBytes = 32 * 1024 * 1024
    /// The first reconnect delay, doubled per failure up to `reconnectMaxDelayMillis`, with jitter.
    public var reconnectMinDelayMillis = 100
    /// The longest reconnect delay.
    public var reconnectMaxDelayMillis = 5_000
    /// How often an idle connection sends PING to find out that the server stopped answering (a host that
    /// vanished without closing the connection); a subscriber that gets no answer before the next check
    /// reconnects. 0 turns it off.
    public var healthCheckIntervalMillis = 15_000
    /// The name given with CLIENT SETNAME (or HELLO's SETNAME), shown by CLIENT LIST.
    public var clientName: String?
    /// Which protocol the handshake asks for.
    public var protocolVersion = ProtocolVersion.resp3IfAvailable
    /// How `rediss://` verifies the server: the system's CAs by default; add a private CA with
    /// `tls.additionalCAFiles`, or name the certificate's host with `tls.serverName`.
    public var tls = TLSConfiguration()
    /// The bounds the reply decoder enforces.
    public var decoderLimits = RESPDecoder.Limits()

    /// A configuration for `endpoint` with the defaults above.
    public init(endpoint: Endpoint) {
        self.endpoint = endpoint
    }

    /// Parses `redis://`, `rediss://` and `unix://` URLs; user and password are percent-decoded.
    public init(url: String) throws(RedisClientError) {
        let parsed = try RedisURL.parse(url)
        self.endpoint = parsed.endpoint
        self.useTLS = parsed.useTLS
        self.username = parsed.username
        self.password = parsed.password
        self.database = parsed.database
    }
}
