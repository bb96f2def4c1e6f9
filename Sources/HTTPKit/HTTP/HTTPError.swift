/// An error that carries the HTTP status (and message) it should be answered with.
///
/// The router turns any such error thrown by a handler or middleware into a response with that status
/// and a JSON body `{"error": message}`; other errors become 500 `{"error":"internal error"}`.
public protocol HTTPStatusError: Error {
    /// Status code of the response.
    var httpStatus: Int { get }
    /// Message for the JSON body; shown to clients, so keep internals out of it.
    var httpMessage: String { get }
}

/// An error to throw from a handler to answer with a specific status, e.g. `throw HTTPError(404, "no such project")`.
public struct HTTPError: HTTPStatusError, Sendable, Equatable, CustomStringConvertible {
    /// Status code of the response.
    public var status: Int
    /// Message for the JSON body.
    public var message: String
    /// Extra response headers (e.g. `WWW-Authenticate` with a 401).
    public var headers: HTTPHeaders

    /// Creates an error; the message defaults to the status's reason phrase.
    public init(_ status: Int, _ message: String? = nil, headers: HTTPHeaders = HTTPHeaders()) {
        self.status = status
        self.message = message ?? HTTPStatus.reasonPhrase(status)
        self.headers = headers
    }

    /// The status, for `HTTPStatusError`.
    public var httpStatus: Int { self.status }
    /// The message, for `HTTPStatusError`.
    public var httpMessage: String { self.message }
    /// For logs.
    public var description: String { "HTTPError(\(self.status), \(self.message))" }

    /// Status and message equal (headers are not compared).
    public static func == (lhs: HTTPError, rhs: HTTPError) -> Bool {
        lhs.status == rhs.status && lhs.message == rhs.message
    }

    /// 400 Bad Request.
    public static func badRequest(_ message: String = "bad request") -> HTTPError { HTTPError(400, message) }
    /// 401 Unauthorized.
    public static func unauthorized(_ message: String = "unauthorized") -> HTTPError { HTTPError(401, message) }
    /// 403 Forbidden.
    public static func forbidden(_ message: String = "forbidden") -> HTTPError { HTTPError(403, message) }
    /// 404 Not Found.
    public static func notFound(_ message: String = "not found") -> HTTPError { HTTPError(404, message) }
    /// 409 Conflict.
    public static func conflict(_ message: String = "conflict") -> HTTPError { HTTPError(409, message) }
    /// 413 Content Too Large.
    public static func tooLarge(_ message: String = "request body too large") -> HTTPError { HTTPError(413, message) }
    /// 415 Unsupported Media Type.
    public static func unsupportedMediaType(_ message: String = "unsupported media type") -> HTTPError {
        HTTPError(415, message)
    }
}

extension HTTPParseError: HTTPStatusError {
    /// The status, for `HTTPStatusError`.
    public var httpStatus: Int { self.status }
    /// The reason, for `HTTPStatusError`.
    public var httpMessage: String { self.reason }
}

extension MultipartError: HTTPStatusError {
    /// The status, for `HTTPStatusError`.
    public var httpStatus: Int { self.status }
    /// The reason, for `HTTPStatusError`.
    public var httpMessage: String { self.reason }
}
