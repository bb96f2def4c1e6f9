/// One step of an HTTP/1.x request stream, as produced by `HTTPRequestParser`.
///
/// A request is always `.head`, then zero or more `.body` pieces, then `.end`.
public enum HTTPParseEvent: Sendable {
    /// The request line and header fields; emitted before any body byte so the server can reject early.
    case head(HTTPRequestHead)
    /// A piece of the (de-chunked) body; never empty.
    case body([UInt8])
    /// The request is complete; the next call starts parsing the following pipelined request.
    case end
}
