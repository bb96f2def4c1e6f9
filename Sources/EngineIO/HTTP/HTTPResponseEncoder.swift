/// Serializes a response's status line and header section.
///
/// The body itself is written by the server (bytes, or a file through sendfile), so this only needs the
/// body's length.
public struct HTTPResponseEncoder: Sendable {
    /// Where the `Date` value comes from.
    public let dateCache: HTTPDateCache

    /// Creates an encoder sharing `dateCache` (the process-wide one by default).
    public init(dateCache: HTTPDateCache = .shared) {
        self.dateCache = dateCache
    }

    /// The number of body bytes `response` will carry on the wire.
    public static func bodyLength(of response: HTTPResponse) -> Int {
        switch response.body {
        case .bytes(let bytes): return bytes.count
        case .file(_, _, let length): return length
        }
    }

    /// Appends the head of `response`; see `encodeHead(status:headers:contentLength:keepAlive:into:)`.
    public func encodeHead(_ response: HTTPResponse, contentLength: Int?, keepAlive: Bool, into out: inout [UInt8]) {
        self.encodeHead(status: response.status, headers: response.headers, contentLength: contentLength,
                        keepAlive: keepAlive, into: &out)
    }

    /// Appends `HTTP/1.1 <status> <reason>`, the given headers, and the framing headers the server owns.
    ///
    /// - `Content-Length: contentLength` is added unless the headers already have `Content-Length` or
    ///   `Transfer-Encoding`, `contentLength` is nil, or the status forbids a body (1xx, 204, 304).
    ///   For a HEAD response pass the length the GET body would have.
    /// - `Date` is added unless present.
    /// - `Connection: keep-alive` or `close` per `keepAlive` is added unless a `Connection` header is present
    ///   (a 101 response carries `Connection: Upgrade`).
    /// CR, LF and NUL in names or values are replaced by spaces so a handler cannot split the response.
    public func encodeHead(
        status: Int, headers: HTTPHeaders, contentLength: Int?, keepAlive: Bool, into out: inout [UInt8]
    ) {
        out.reserveCapacity(out.count + 128 + headers.count * 40)
        out.append(contentsOf: "HTTP/1.1 ".utf8)
        out.append(contentsOf: String(status).utf8)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: HTTPStatus.reasonPhrase(status).utf8)
        out.append(contentsOf: crlf)

        var hasLength = false, hasDate = false, hasConnection = false
        for field in headers {
            if field.name.asciiCaseInsensitiveEquals("Content-Length")
                || field.name.asciiCaseInsensitiveEquals("Transfer-Encoding") {
                hasLength = true
            } else if field.name.asciiCaseInsensitiveEquals("Date") {
                hasDate = true
            } else if field.name.asciiCaseInsensitiveEquals("Connection") {
                hasConnection = true
            }
            Self.appendSanitized(field.name, into: &out)
            out.append(contentsOf: ": ".utf8)
            Self.appendSanitized(field.value, into: &out)
            out.append(contentsOf: crlf)
        }
        if !hasLength, let contentLength, !HTTPStatus.forbidsBody(status) {
            out.append(contentsOf: "Content-Length: ".utf8)
            out.append(contentsOf: String(contentLength).utf8)
            out.append(contentsOf: crlf)
        }
        if !hasDate {
            out.append(contentsOf: "Date: ".utf8)
            out.append(contentsOf: self.dateCache.currentBytes())
            out.append(contentsOf: crlf)
        }
        if !hasConnection {
            out.append(contentsOf: keepAlive ? "Connection: keep-alive\r\n".utf8 : "Connection: close\r\n".utf8)
        }
        out.append(contentsOf: crlf)
    }

    private var crlf: [UInt8] { [13, 10] }

    private static func appendSanitized(_ text: String, into out: inout [UInt8]) {
        // Nearly always nothing to replace: one scan of the contiguous bytes, then one bulk copy.
        let done = text.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            for byte in bytes where byte == 13 || byte == 10 || byte == 0 { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if done == true { return }
        for byte in text.utf8 {
            out.append(byte == 13 || byte == 10 || byte == 0 ? UInt8(ascii: " ") : byte)
        }
    }
}
