/// Compresses eligible responses with gzip when the client accepts it.
///
/// Eligible: a `.bytes` body of at least `minimumSize` bytes, a text-like Content-Type (text/*, JSON,
/// JavaScript, XML, SVG), no existing Content-Encoding, no `Cache-Control: no-transform`, and a status that
/// has a full body (not 1xx/204/206/304). Eligible responses always get `Vary: Accept-Encoding` — even when
/// this client gets them uncompressed — so caches keep the variants apart. File bodies are left alone:
/// they are streamed with sendfile.
public struct ResponseCompression: Sendable {
    /// Smallest body worth compressing; below it the gzip overhead wins.
    public var minimumSize: Int
    /// zlib level 0–9.
    public var level: Int32

    /// Creates the helper (1 KiB threshold, level 6 by default).
    public init(minimumSize: Int = 1024, level: Int32 = 6) {
        self.minimumSize = minimumSize
        self.level = level
    }

    /// Middleware applying `apply(to:requestHeaders:)` to every response.
    public var middleware: Middleware {
        let compression = self
        return { context, next in
            compression.apply(to: try await next(context), requestHeaders: context.headers)
        }
    }

    /// `response`, gzip-compressed when eligible and accepted.
    public func apply(to response: HTTPResponse, requestHeaders: HTTPHeaders) -> HTTPResponse {
        guard case .bytes(let body) = response.body, body.count >= self.minimumSize,
              !HTTPStatus.forbidsBody(response.status), response.status != 206,
              !response.headers.contains("Content-Encoding"),
              !response.headers.hasToken("no-transform", in: "Cache-Control"),
              let contentType = response.headers["Content-Type"], Self.isCompressible(contentType: contentType)
        else { return response }

        var result = response
        Self.addVary(&result.headers)
        guard Self.acceptsGzip(requestHeaders.values("Accept-Encoding")),
              let compressed = try? Gzip.compress(body, level: self.level), compressed.count < body.count
        else { return result }

        result.body = .bytes(compressed)
        result.headers.set("Content-Encoding", "gzip")
        result.headers.remove("Content-Length")
        // The compressed bytes differ from the representation a strong ETag named.
        if let etag = result.headers["ETag"], !etag.hasPrefix("W/") { result.headers.set("ETag", "W/" + etag) }
        return result
    }

    /// Whether `Accept-Encoding` values allow gzip: `gzip`/`x-gzip` with q > 0, or else `*` with q > 0.
    /// `gzip;q=0` refuses it even when `*` would allow it; no header means no compression.
    public static func acceptsGzip(_ acceptEncoding: [String]) -> Bool {
        var gzipQuality: Double?
        var anyQuality: Double?
        for element in acceptEncoding.flatMap({ HeaderValue.list($0) }) {
            let quality = element.parameter("q").flatMap { Double($0.trimmingASCIISpaces()) } ?? 1
            if element.value.asciiCaseInsensitiveEquals("gzip") || element.value.asciiCaseInsensitiveEquals("x-gzip") {
                gzipQuality = max(gzipQuality ?? 0, quality)
            } else if element.value == "*" {
                anyQuality = quality
            }
        }
        if let gzipQuality { return gzipQuality > 0 }
        if let anyQuality { return anyQuality > 0 }
        return false
    }

    /// Whether a Content-Type is text-like enough to benefit from gzip.
    public static func isCompressible(contentType: String) -> Bool {
        let type = HeaderValue(contentType).value.lowercased()
        return type.hasPrefix("text/") || type.contains("json") || type.contains("javascript")
            || type.contains("xml") || type == "image/svg+xml"
    }

    private static func addVary(_ headers: inout HTTPHeaders) {
        guard let vary = headers["Vary"] else {
            headers.set("Vary", "Accept-Encoding")
            return
        }
        if vary.trimmingASCIISpaces() == "*" || headers.hasToken("Accept-Encoding", in: "Vary") { return }
        headers.set("Vary", vary + ", Accept-Encoding")
    }
}
