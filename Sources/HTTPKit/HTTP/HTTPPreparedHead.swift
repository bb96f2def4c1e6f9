/// A response's status line and header fields, encoded once for answers that repeat them: every polling
/// answer of an Engine.IO session carries the same headers, and encoding them field by field cost about 750
/// instructions per answer. The server still adds `Content-Length`, `Date` and `Connection` as it does for
/// an `HTTPResponse` with these headers, so the bytes on the wire are the same.
public final class HTTPPreparedHead: Sendable {
    /// The status code.
    public let status: Int
    /// `HTTP/1.1 <status> <reason>\r\n` and the fields, in wire form.
    let bytes: [UInt8]
    /// Which framing fields the headers carry themselves.
    let framing: HTTPHeaders.FramingFields

    /// The head of a response with `status` and `headers`.
    public init(status: Int = 200, headers: HTTPHeaders) {
        var bytes: [UInt8] = []
        HTTPResponseEncoder.appendStatusLine(status, into: &bytes)
        self.framing = headers.appendWireFields(into: &bytes)
        self.status = status
        self.bytes = bytes
    }
}
