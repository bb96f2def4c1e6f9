import Foundation

/// Everything a route handler gets: the request, its route parameters, query and body helpers.
public struct RequestContext: Sendable {
    /// The complete request.
    public let request: HTTPRequest
    /// Path parameters captured by the matched route (empty when none matched).
    public var params: RouteParameters
    /// The parsed query string.
    public let query: QueryParameters
    /// The pattern of the matched route, e.g. `/ai_project/:id`, or nil (404/405 paths).
    public let routePattern: String?
    /// Values middleware passes down to handlers (an authenticated user, a request id...).
    public var locals: [String: any Sendable]

    /// Creates a context; the router does this, tests may too.
    public init(request: HTTPRequest, params: RouteParameters = RouteParameters(), routePattern: String? = nil,
                locals: [String: any Sendable] = [:]) {
        self.request = request
        self.params = params
        self.query = QueryParameters(parsing: request.head.rawQuery)
        self.routePattern = routePattern
        self.locals = locals
    }

    /// The request method.
    public var method: String { self.request.method }
    /// The request headers.
    public var headers: HTTPHeaders { self.request.headers }
    /// The raw (still percent-encoded) path.
    public var path: Substring { self.request.path }
    /// The request body.
    public var body: [UInt8] { self.request.body }

    /// The request's cookies (see `Cookies.parse` for the rules).
    public var cookies: [String: String] { Cookies.parse(self.request.headers) }

    /// The body as an urlencoded form. Throws 415 when a Content-Type other than
    /// `application/x-www-form-urlencoded` is declared (a missing Content-Type is accepted).
    public func form() throws(HTTPError) -> QueryParameters {
        if let contentType = self.headers["Content-Type"], !URLEncodedForm.matches(contentType: contentType) {
            throw .unsupportedMediaType("expected application/x-www-form-urlencoded")
        }
        return URLEncodedForm.parse(self.request.body)
    }

    /// The body as multipart/form-data: text fields in memory and files written under `directory`
    /// (the system temp dir by default). Throws 415 when not multipart, 400 when malformed, 413 over limits;
    /// the handler owns the returned files (see `MultipartForm.removeFiles()`).
    public func multipart(directory: String? = nil, limits: MultipartFormLimits = MultipartFormLimits())
        throws(MultipartError) -> MultipartForm
    {
        guard let contentType = self.headers["Content-Type"] else {
            throw MultipartError(status: 415, reason: "expected multipart/form-data")
        }
        return try MultipartFormCollector.collect(
            body: self.request.body, contentType: contentType, directory: directory, limits: limits)
    }

    /// Decodes the JSON body; a body that does not decode is a 400.
    public func decodeJSON<T: Decodable>(_ type: T.Type, decoder: JSONDecoder = JSONDecoder()) throws(HTTPError) -> T {
        do {
            return try decoder.decode(type, from: Data(self.request.body))
        } catch {
            throw .badRequest("invalid JSON body")
        }
    }

    /// A JSON response encoding `value`; see `HTTPResponse.json`.
    public func json<T: Encodable>(_ value: T, status: Int = 200, encoder: JSONEncoder = JSONEncoder()) throws
        -> HTTPResponse
    {
        try HTTPResponse.json(value, status: status, encoder: encoder)
    }

    /// A JSON response from already-serialized bytes.
    public func json(bytes: [UInt8], status: Int = 200) -> HTTPResponse {
        HTTPResponse.json(bytes: bytes, status: status)
    }

    /// A redirect (302 by default).
    public func redirect(to location: String, status: Int = 302) -> HTTPResponse {
        HTTPResponse.redirect(to: location, status: status)
    }
}
