/// Bounds for `MultipartParser`, so a hostile body cannot make it buffer or loop without limit.
public struct MultipartLimits: Sendable, Equatable {
    /// Largest header section of one part (all its header lines); larger → 413.
    public var maxPartHeaderBytes: Int
    /// Most parts in one body; more → 413.
    public var maxParts: Int

    /// Creates limits; defaults are 16 KiB of headers per part and 1000 parts.
    public init(maxPartHeaderBytes: Int = 16 * 1024, maxParts: Int = 1000) {
        self.maxPartHeaderBytes = maxPartHeaderBytes
        self.maxParts = maxParts
    }
}

/// Why a multipart body was rejected, with the HTTP status to answer (400 malformed, 413 over a limit,
/// 415 not multipart, 500 when an upload could not be written to disk).
public struct MultipartError: Error, Sendable, Equatable, CustomStringConvertible {
    /// HTTP status for the response.
    public var status: Int
    /// Short explanation, safe to show to the client.
    public var reason: String

    /// Creates an error.
    public init(status: Int, reason: String) {
        self.status = status
        self.reason = reason
    }

    /// For logs.
    public var description: String { "multipart \(self.status): \(self.reason)" }

    static func malformed(_ reason: String) -> MultipartError { MultipartError(status: 400, reason: reason) }
    static func tooLarge(_ reason: String) -> MultipartError { MultipartError(status: 413, reason: reason) }
}

/// The headers of one part, with the RFC 7578 fields pulled out.
public struct MultipartPartHead: Sendable {
    /// Every header line of the part, in order.
    public var headers: HTTPHeaders
    /// `name` from `Content-Disposition: form-data; name="..."`: the form field name.
    public var name: String?
    /// `filename` (or a UTF-8 `filename*`) from Content-Disposition. Sent by the client: never use it as
    /// a path without sanitizing.
    public var filename: String?
    /// The part's `Content-Type`, or nil (RFC 7578 then means `text/plain`).
    public var contentType: String?

    /// Builds a head from parsed header lines.
    public init(headers: HTTPHeaders) {
        self.headers = headers
        if let disposition = headers["Content-Disposition"] {
            let parsed = HeaderValue(disposition)
            self.name = parsed.parameter("name")
            self.filename = parsed.extendedParameter("filename")
        }
        self.contentType = headers["Content-Type"]
    }

    /// Whether this part is a file upload (it has a filename parameter, possibly empty).
    public var isFile: Bool { self.filename != nil }
}

/// One step of a multipart body, as produced by `MultipartParser`.
public enum MultipartEvent: Sendable {
    /// A part starts; its data events follow.
    case partBegin(MultipartPartHead)
    /// Some bytes of the current part's content (never empty).
    case data([UInt8])
    /// The current part is complete.
    case partEnd
}
