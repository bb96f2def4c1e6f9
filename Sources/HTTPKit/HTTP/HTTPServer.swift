import Transport

/// Settings of the HTTP server.
public struct HTTPServerConfiguration: Sendable {
    /// Address to bind: `0.0.0.0`, `::`, `127.0.0.1`, a host name.
    public var host: String
    /// Port to bind; 0 lets the kernel choose (read it back from `HTTPServer.port`).
    public var port: Int
    /// Parser limits; `maxBodySize` is the default body limit for handlers that do not set their own.
    public var limits: HTTPLimits
    /// Time a client has to send a complete request head once it started one, and a new connection has to
    /// send its first request head (slowloris: connections that open and never finish a request).
    public var headerTimeoutMillis: Int
    /// Time a client has to send a request body once its head arrived.
    public var bodyTimeoutMillis: Int
    /// How long an idle keep-alive connection stays open.
    public var idleTimeoutMillis: Int
    /// Whether a reverse proxy sits in front: requests then take the client's address and scheme from
    /// `X-Forwarded-For` and `X-Forwarded-Proto` (see `ForwardedHeaders`). Off: those headers are ignored.
    public var trustProxy = false
    /// Certificate and key for https/wss on the listening port; nil serves plain http.
    public var tls: TLSServerContext?
    /// Most bytes a connection may hold for a peer that stopped reading before it is closed (uWebSockets'
    /// `maxBackpressure`); see `TCPConnection.maxBackpressure`. 0 means no cap.
    public var maxBackpressure: Int = 1 << 20
    /// Connections open at once, in all and per client address; over them a connection is closed unread.
    /// None by default (Node's `maxConnections` is unset too); the executables set theirs from flags.
    public var connectionLimits = ConnectionLimits()
    /// How new connections are shared among the loops (default: the loop that waits; see `ConnectionSpread`).
    public var connectionSpread = ConnectionSpread.firstWaitingLoop

    /// Settings with the given address, limits and timeouts.
    public init(host: String = "0.0.0.0", port: Int = 8080, limits: HTTPLimits = HTTPLimits(),
                headerTimeoutMillis: Int = 30_000, bodyTimeoutMillis: Int = 120_000, idleTimeoutMillis: Int = 60_000) {
        self.host = host
        self.port = port
        self.limits = limits
        self.headerTimeoutMillis = headerTimeoutMillis
        self.bodyTimeoutMillis = bodyTimeoutMillis
        self.idleTimeoutMillis = idleTimeoutMillis
    }
}

/// An HTTP/1.1 server on an event loop group.
public final class HTTPServer: Sendable {
    /// The loops serving connections.
    public let group: EventLoopGroup
    private let listener: TCPListener

    /// Binds and starts serving with `handler`.
    public init(configuration: HTTPServerConfiguration, group: EventLoopGroup, handler: HTTPRequestHandling) throws(EventLoopError) {
        self.group = group
        self.listener = try TCPListener(host: configuration.host, port: configuration.port, group: group,
                                        tls: configuration.tls, limits: configuration.connectionLimits,
                                        spread: configuration.connectionSpread) { [settings = HTTPServerSettings(configuration)] connection in
            connection.maxBackpressure = settings.configuration.maxBackpressure
            connection.handler = HTTPServerConnection(connection: connection, settings: settings, handler: handler)
        }
    }

    /// Whether it serves https/wss.
    public var isSecure: Bool { self.listener.isSecure }

    /// The port actually bound.
    public var port: Int { self.listener.address.port }

    /// The address actually bound.
    public var address: SocketAddress { self.listener.address }

    /// The open connections (counted when a limit is set) and how many were refused.
    public var admission: ConnectionAdmission { self.listener.admission }

    /// Stops accepting new connections; existing ones continue.
    public func stopAccepting() {
        self.listener.close()
    }
}
