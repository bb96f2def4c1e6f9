/// Size limits the request parser enforces, so one client cannot make the server buffer without bound.
public struct HTTPLimits: Sendable, Equatable {
    /// Longest request line (method, target and version, without the line ending); longer → 414.
    public var maxRequestLineLength: Int
    /// Total bytes of the header section after the request line, line endings included; more → 431.
    public var maxHeaderBytes: Int
    /// Most header fields in one request; more → 431. Trailer fields of a chunked body count separately.
    public var maxHeaderCount: Int
    /// Largest request body (the decoded payload for chunked bodies); larger → 413.
    /// Defaults to 1 000 000 bytes, the same as Engine.IO's `maxHttpBufferSize`.
    public var maxBodySize: Int
    /// Longest chunk-size line including chunk extensions; longer → 400.
    public var maxChunkLineLength: Int

    /// Creates limits; every argument has the documented default.
    public init(
        maxRequestLineLength: Int = 8 * 1024,
        maxHeaderBytes: Int = 16 * 1024,
        maxHeaderCount: Int = 100,
        maxBodySize: Int = 1_000_000,
        maxChunkLineLength: Int = 4 * 1024
    ) {
        self.maxRequestLineLength = maxRequestLineLength
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodySize = maxBodySize
        self.maxChunkLineLength = maxChunkLineLength
    }
}
