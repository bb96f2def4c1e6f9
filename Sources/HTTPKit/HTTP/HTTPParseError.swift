/// Why a request could not be parsed, with the status code the server should answer before closing.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// HTTP status to send: 400, 413, 414, 431, 501 or 505.
    public var status: Int
    /// A short human-readable explanation, safe to send to the client.
    public var reason: String

    /// Creates an error with a status and reason.
    public init(status: Int, reason: String) {
        self.status = status
        self.reason = reason
    }

    /// For logs.
    public var description: String { "HTTP \(self.status): \(self.reason)" }

    /// 400 Bad Request.
    public static func badRequest(_ reason: String) -> HTTPParseError { HTTPParseError(status: 400, reason: reason) }
    /// 413 Content Too Large.
    public static func bodyTooLarge() -> HTTPParseError { HTTPParseError(status: 413, reason: "request body too large") }
    /// 414 URI Too Long.
    public static func uriTooLong() -> HTTPParseError { HTTPParseError(status: 414, reason: "request target too long") }
    /// 431 Request Header Fields Too Large.
    public static func headersTooLarge(_ reason: String) -> HTTPParseError { HTTPParseError(status: 431, reason: reason) }
    /// 501 Not Implemented (an unsupported transfer coding).
    public static func notImplemented(_ reason: String) -> HTTPParseError { HTTPParseError(status: 501, reason: reason) }
    /// 505 HTTP Version Not Supported.
    public static func versionNotSupported() -> HTTPParseError {
        HTTPParseError(status: 505, reason: "HTTP version not supported")
    }
}
