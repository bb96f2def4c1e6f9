import Foundation

/// A route handler: turns a request context into a response, or throws (see `HTTPStatusError`).
public typealias RouteHandler = @Sendable (RequestContext) async throws -> HTTPResponse

/// Middleware: sees every request before routing's outcome (404/405 included) and may answer itself,
/// change the context, or call `next` and change the response. `next` does not throw in practice: errors
/// from inner layers arrive as their error responses.
public typealias Middleware = @Sendable (RequestContext, _ next: @escaping RouteHandler) async throws -> HTTPResponse

/// Path and method routing with middleware, conforming to `HTTPServerHandler`.
///
/// - Patterns: literal segments, `:name` parameters and a final `*name` wildcard that captures the rest
///   of the path (possibly empty). Captured values are percent-decoded. A trailing slash is ignored.
/// - When several routes match, the most specific wins (literal over parameter over wildcard, segment by
///   segment), then the earliest registered.
/// - HEAD uses a GET route when there is no HEAD route, and the body is dropped (keeping its length in
///   `Content-Length`). OPTIONS without a route answers 204 with `Allow`.
/// - A path that matches under other methods only answers 405 with `Allow`; otherwise 404.
/// - Errors: `HTTPStatusError`s answer with their status and `{"error": message}`; anything else answers
///   500 `{"error":"internal error"}`.
///
/// Routes and middleware may be added at any time (a lock guards them), though normally all are added
/// before the server starts.
public final class Router: HTTPServerHandler, @unchecked Sendable {
    // Guarded by `lock`; the reason this class can be `@unchecked Sendable`.
    private let lock = NSLock()
    private var routes: [RouteTable.Entry] = []
    /// Built from `routes` on the first request after a change, so routing indexes routes once.
    private var table: RouteTable?
    private var middleware: [Middleware] = []
    /// The same layers when all of them are synchronous (else nil): direct routes then run on the loop thread.
    private var syncLayers: [SyncMiddleware]? = []
    private var fallback: RouteHandler?
    private let onError: (@Sendable (any Error, RequestContext) -> Void)?

    /// Creates an empty router. `onError` sees every error a handler throws (for logging).
    public init(onError: (@Sendable (any Error, RequestContext) -> Void)? = nil) {
        self.onError = onError
    }

    // MARK: - Registration

    /// Registers `handler` for `method` (case-sensitive, e.g. `GET`) and `path` pattern.
    public func add(method: String, path: String, handler: @escaping RouteHandler) {
        let pattern = RoutePattern(path)
        self.lock.lock()
        defer { self.lock.unlock() }
        self.routes.append(RouteTable.Entry(method: method, pattern: pattern, handler: handler, order: self.routes.count))
        self.table = nil
    }

    /// Registers a direct route for `method` and `path`: `handler` runs on the connection's loop thread and
    /// answers through its `RouteAnswer`, with no task or other hop of Swift concurrency, when all middleware
    /// is synchronous (`use(sync:)`); otherwise it runs as an async route would.
    public func addDirect(method: String, path: String, handler: @escaping DirectRouteHandler) {
        let pattern = RoutePattern(path)
        let adapted: RouteHandler = { context in
            try await withCheckedThrowingContinuation { continuation in
                Self.call(handler, context, RouteAnswer { continuation.resume(with: $0) })
            }
        }
        self.lock.lock()
        defer { self.lock.unlock() }
        self.routes.append(RouteTable.Entry(method: method, pattern: pattern, handler: adapted, direct: handler,
                                            order: self.routes.count))
        self.table = nil
    }

    /// Registers a GET route (which also serves HEAD).
    public func get(_ path: String, handler: @escaping RouteHandler) { self.add(method: "GET", path: path, handler: handler) }
    /// Registers a POST route.
    public func post(_ path: String, handler: @escaping RouteHandler) { self.add(method: "POST", path: path, handler: handler) }
    /// Registers a PUT route.
    public func put(_ path: String, handler: @escaping RouteHandler) { self.add(method: "PUT", path: path, handler: handler) }
    /// Registers a PATCH route.
    public func patch(_ path: String, handler: @escaping RouteHandler) { self.add(method: "PATCH", path: path, handler: handler) }
    /// Registers a DELETE route.
    public func delete(_ path: String, handler: @escaping RouteHandler) { self.add(method: "DELETE", path: path, handler: handler) }
    /// Registers a HEAD route (otherwise GET routes answer HEAD).
    public func head(_ path: String, handler: @escaping RouteHandler) { self.add(method: "HEAD", path: path, handler: handler) }
    /// Registers an OPTIONS route (otherwise OPTIONS answers 204 with `Allow`).
    public func options(_ path: String, handler: @escaping RouteHandler) { self.add(method: "OPTIONS", path: path, handler: handler) }

    /// Adds middleware; the first added runs outermost.
    public func use(_ middleware: @escaping Middleware) {
        self.lock.lock()
        defer { self.lock.unlock() }
        self.middleware.append(middleware)
        self.syncLayers = nil
    }

    /// Adds synchronous middleware; the first added runs outermost, among all middleware.
    public func use(sync layer: SyncMiddleware) {
        self.lock.lock()
        defer { self.lock.unlock() }
        self.middleware.append(layer.asMiddleware)
        self.syncLayers?.append(layer)
    }

    /// Sets a handler for requests no route matches (instead of the 404), e.g. a single-page-app index.
    public func setFallback(_ handler: @escaping RouteHandler) {
        self.lock.lock()
        defer { self.lock.unlock() }
        self.fallback = handler
    }

    // MARK: - Handling

    /// Runs the request through middleware and routing and responds exactly once: a direct route behind
    /// synchronous middleware on this thread, anything else in a Task.
    public func handle(_ request: HTTPRequest, responder: any HTTPResponder) {
        let (table, middleware, syncLayers, fallback) = self.snapshot()
        let resolution = table.resolve(method: request.method, path: request.path)
        if let syncLayers, case .route(let route, let params) = resolution, let direct = route.direct {
            let context = RequestContext(request: request, params: params, routePattern: route.pattern.text)
            self.serveDirect(direct, context, layers: syncLayers, responder: responder)
            return
        }
        Task {
            responder.respond(await self.response(for: request, resolution, middleware: middleware, fallback: fallback))
        }
    }

    /// The response for `request`; never throws (errors become error responses).
    public func response(for request: HTTPRequest) async -> HTTPResponse {
        let (table, middleware, _, fallback) = self.snapshot()
        let resolution = table.resolve(method: request.method, path: request.path)
        return await self.response(for: request, resolution, middleware: middleware, fallback: fallback)
    }

    private func response(for request: HTTPRequest, _ resolution: RouteTable.Resolution, middleware: [Middleware],
                          fallback: RouteHandler?) async -> HTTPResponse {

        var context: RequestContext
        let endpoint: RouteHandler
        switch resolution {
        case .route(let route, let params):
            context = RequestContext(request: request, params: params, routePattern: route.pattern.text)
            endpoint = route.handler
        case .methodNotAllowed(let allow):
            context = RequestContext(request: request)
            endpoint = { _ in
                .error(status: 405, message: "method not allowed", headers: ["Allow": allow.joined(separator: ", ")])
            }
        case .options(let allow):
            context = RequestContext(request: request)
            endpoint = { _ in .noContent(headers: ["Allow": allow.joined(separator: ", ")]) }
        case .notFound:
            context = RequestContext(request: request)
            endpoint = fallback ?? { _ in .error(status: 404, message: "not found") }
        }

        // Build the chain inside-out so the first middleware added is the outermost. Each `next` turns
        // errors into error responses, so outer middleware (CORS, compression, logging) sees those too.
        var chain = self.catchingErrors(endpoint)
        for layer in middleware.reversed() {
            let next = chain
            chain = self.catchingErrors { context in try await layer(context, next) }
        }

        var response = await chain(context)
        if request.method == "HEAD" { Self.stripBody(&response) }
        return response
    }

    /// A direct route behind synchronous layers: `before` steps outermost first, then the route; its answer (or
    /// a layer's) goes back out through the `after` steps of the layers it passed.
    private func serveDirect(_ handler: @escaping DirectRouteHandler, _ context: RequestContext, layers: [SyncMiddleware],
                             responder: any HTTPResponder) {
        for (depth, layer) in layers.enumerated() {
            if let answer = layer.before(context) {
                responder.respond(Self.leaving(answer, context, through: layers[..<depth]))
                return
            }
        }
        let onError = self.onError
        Self.call(handler, context, RouteAnswer { result in
            let response: HTTPResponse
            switch result {
            case .success(let answer):
                response = answer
            case .failure(let error):
                onError?(error, context)
                response = Self.errorResponse(for: error)
            }
            responder.respond(Self.leaving(response, context, through: layers[...]))
        })
    }

    /// `response` after the `after` steps of `layers`, innermost first; HEAD then drops the body.
    private static func leaving(_ response: HTTPResponse, _ context: RequestContext,
                                through layers: ArraySlice<SyncMiddleware>) -> HTTPResponse {
        var response = response
        for layer in layers.reversed() { response = layer.after(context, response) }
        if context.method == "HEAD" { Self.stripBody(&response) }
        return response
    }

    /// Calls a direct handler; what it throws is its answer.
    private static func call(_ handler: DirectRouteHandler, _ context: RequestContext, _ answer: RouteAnswer) {
        do {
            try handler(context, answer)
        } catch {
            answer.fail(error)
        }
    }

    private func catchingErrors(_ handler: @escaping RouteHandler) -> @Sendable (RequestContext) async -> HTTPResponse {
        let onError = self.onError
        return { context in
            do {
                return try await handler(context)
            } catch {
                onError?(error, context)
                return Self.errorResponse(for: error)
            }
        }
    }

    private func snapshot() -> (RouteTable, [Middleware], [SyncMiddleware]?, RouteHandler?) {
        self.lock.lock()
        defer { self.lock.unlock() }
        let table = self.table ?? RouteTable(self.routes)
        self.table = table
        return (table, self.middleware, self.syncLayers, self.fallback)
    }

    /// The response for an error escaping the handler chain.
    static func errorResponse(for error: any Error) -> HTTPResponse {
        if let httpError = error as? HTTPError {
            return .error(status: httpError.status, message: httpError.message, headers: httpError.headers)
        }
        if let statusError = error as? any HTTPStatusError {
            return .error(status: statusError.httpStatus, message: statusError.httpMessage)
        }
        return .error(status: 500, message: "internal error")
    }

    /// HEAD: no body, but the headers (Content-Length included) a GET would send.
    private static func stripBody(_ response: inout HTTPResponse) {
        if !response.headers.contains("Content-Length") && !response.headers.contains("Transfer-Encoding")
            && !HTTPStatus.forbidsBody(response.status) {
            response.headers.set("Content-Length", String(HTTPResponseEncoder.bodyLength(of: response)))
        }
        response.body = .bytes([])
    }
}
