import Transport

/// What the HTTP server calls for each request, on the loop thread that read it.
///
/// Handlers that only compute a response call `exchange.respond` right away; long-polling keeps the exchange
/// and answers later from any thread. A handler that wants the raw connection (a WebSocket upgrade) takes it
/// in `upgrade`.
public protocol HTTPRequestHandling: AnyObject, Sendable {
    /// The largest body accepted for this request, or nil for the server's default.
    func maxBodySize(for head: HTTPRequestHead) -> Int?
    /// Handles a complete request. Must answer through `exchange` exactly once.
    func handle(_ request: HTTPRequest, exchange: HTTPExchange)
    /// Handles a request carrying `Upgrade: websocket`. Return `.notHandled` to treat it as a plain request.
    func upgrade(_ request: HTTPRequest, connection: TCPConnection) -> HTTPUpgradeResult
    /// The handler that serves every step of the request with this head (the server asks once per request,
    /// then calls `maxBodySize`, `handle` and `upgrade` on it): a chain answers with the handler that
    /// claims the head, so it does not search its entries for each call.
    func resolvedHandler(for head: HTTPRequestHead) -> HTTPRequestHandling
}

extension HTTPRequestHandling {
    /// The server's default body limit.
    public func maxBodySize(for head: HTTPRequestHead) -> Int? { nil }
    /// No upgrades: the request is handled as a plain one.
    public func upgrade(_ request: HTTPRequest, connection: TCPConnection) -> HTTPUpgradeResult { .notHandled }
    /// The handler itself.
    public func resolvedHandler(for head: HTTPRequestHead) -> HTTPRequestHandling { self }
}

/// The outcome of an upgrade attempt.
public enum HTTPUpgradeResult {
    /// The handler wrote its own response (101) and set `connection.handler` to the new protocol (it may
    /// also move the connection to another loop; bytes already read stay buffered for it).
    case upgraded
    /// Refuse with this response; the connection then closes.
    case rejected(HTTPResponse)
    /// Not an upgrade this handler serves: handle as a normal request.
    case notHandled
}

/// Tries handlers in order: the first whose `claims` is true gets the request.
public final class HTTPHandlerChain: HTTPRequestHandling {
    private let entries: [(claims: @Sendable (HTTPRequestHead) -> Bool, handler: HTTPRequestHandling)]
    private let fallback: HTTPRequestHandling?

    /// `entries` are checked in order; requests nobody claims go to `fallback` (404 without one).
    public init(_ entries: [(claims: @Sendable (HTTPRequestHead) -> Bool, handler: HTTPRequestHandling)],
                fallback: HTTPRequestHandling? = nil) {
        self.entries = entries
        self.fallback = fallback
    }

    private func target(for head: HTTPRequestHead) -> HTTPRequestHandling? {
        for entry in self.entries where entry.claims(head) { return entry.handler }
        return self.fallback
    }

    /// The handler that claims the head (resolved in turn), or the chain itself, which answers 404.
    public func resolvedHandler(for head: HTTPRequestHead) -> HTTPRequestHandling {
        self.target(for: head)?.resolvedHandler(for: head) ?? self
    }

    /// The limit of the handler that claims the request.
    public func maxBodySize(for head: HTTPRequestHead) -> Int? {
        self.target(for: head)?.maxBodySize(for: head)
    }

    /// Passes the request to the first handler that claims it, else to the fallback.
    public func handle(_ request: HTTPRequest, exchange: HTTPExchange) {
        guard let handler = self.target(for: request.head) else {
            exchange.respond(.text("Not Found\n", status: 404))
            return
        }
        handler.handle(request, exchange: exchange)
    }

    /// Passes the upgrade to the handler that claims it.
    public func upgrade(_ request: HTTPRequest, connection: TCPConnection) -> HTTPUpgradeResult {
        guard let handler = self.target(for: request.head) else { return .notHandled }
        return handler.upgrade(request, connection: connection)
    }
}

/// Adapts an asynchronous `HTTPServerHandler` (the router) to the server's loop-side protocol.
public final class HTTPServerHandlerAdapter: HTTPRequestHandling {
    private let inner: HTTPServerHandler
    private let bodyLimit: Int?

    /// Serves `inner`, with bodies up to `maxBodySize` (nil: the server's default).
    public init(_ inner: HTTPServerHandler, maxBodySize: Int? = nil) {
        self.inner = inner
        self.bodyLimit = maxBodySize
    }

    /// The limit given at creation.
    public func maxBodySize(for head: HTTPRequestHead) -> Int? { self.bodyLimit }

    /// Passes the request to the wrapped handler, which answers through `exchange`.
    public func handle(_ request: HTTPRequest, exchange: HTTPExchange) {
        self.inner.handle(request, responder: exchange)
    }
}
