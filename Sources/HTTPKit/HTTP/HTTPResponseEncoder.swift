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
        Self.appendStatusLine(status, into: &out)
        let framing = headers.appendWireFields(into: &out)
        self.appendFraming(framing, status: status, contentLength: contentLength, keepAlive: keepAlive, into: &out)
    }

    /// Appends a prepared head (its status line and fields as encoded once) and the framing fields it lacks,
    /// as `encodeHead(status:headers:contentLength:keepAlive:into:)` does for the same headers.
    public func encodeHead(_ head: HTTPPreparedHead, contentLength: Int?, keepAlive: Bool, into out: inout [UInt8]) {
        out.reserveCapacity(out.count + 96 + head.bytes.count)
        out.append(contentsOf: head.bytes)
        self.appendFraming(head.framing, status: head.status, contentLength: contentLength, keepAlive: keepAlive, into: &out)
    }

    /// `HTTP/1.1 <status> <reason>\r\n`.
    static func appendStatusLine(_ status: Int, into out: inout [UInt8]) {
        if status == 200 {
            out.append(contentsOf: Self.statusLine200)
            return
        }
        out.append(contentsOf: "HTTP/1.1 ".utf8)
        Self.appendDecimal(status, into: &out)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: HTTPStatus.reasonPhrase(status).utf8)
        out.append(13)
        out.append(10)
    }

    /// The framing fields the headers lack, then the blank line that ends the head.
    private func appendFraming(_ framing: HTTPHeaders.FramingFields, status: Int, contentLength: Int?, keepAlive: Bool,
                               into out: inout [UInt8]) {
        if !framing.length && !framing.date && !framing.connection, let contentLength, !HTTPStatus.forbidsBody(status) {
            // The usual answer: the same bytes as below in four appends instead of eleven.
            out.append(contentsOf: Self.contentLengthName)
            Self.appendDecimal(contentLength, into: &out)
            out.append(contentsOf: Self.endLineDateName)
            out.append(contentsOf: self.dateCache.currentBytes())
            out.append(contentsOf: keepAlive ? Self.endLineKeepAliveEnd : Self.endLineCloseEnd)
            return
        }
        if !framing.length, let contentLength, !HTTPStatus.forbidsBody(status) {
            out.append(contentsOf: Self.contentLengthName)
            Self.appendDecimal(contentLength, into: &out)
            out.append(13)
            out.append(10)
        }
        if !framing.date {
            out.append(contentsOf: Self.dateName)
            out.append(contentsOf: self.dateCache.currentBytes())
            out.append(13)
            out.append(10)
        }
        if !framing.connection {
            out.append(contentsOf: keepAlive ? Self.keepAliveLine : Self.closeLine)
        }
        out.append(13)
        out.append(10)
    }

    private static let statusLine200: [UInt8] = Array("HTTP/1.1 200 OK\r\n".utf8)
    private static let contentLengthName: [UInt8] = Array("Content-Length: ".utf8)
    private static let dateName: [UInt8] = Array("Date: ".utf8)
    private static let keepAliveLine: [UInt8] = Array("Connection: keep-alive\r\n".utf8)
    private static let closeLine: [UInt8] = Array("Connection: close\r\n".utf8)
    private static let endLineDateName: [UInt8] = Array("\r\nDate: ".utf8)
    private static let endLineKeepAliveEnd: [UInt8] = Array("\r\nConnection: keep-alive\r\n\r\n".utf8)
    private static let endLineCloseEnd: [UInt8] = Array("\r\nConnection: close\r\n\r\n".utf8)

    /// A non-negative number in decimal, without a String.
    private static func appendDecimal(_ value: Int, into out: inout [UInt8]) {
        guard value > 0 else {
            out.append(UInt8(ascii: "0"))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            while rest > 0 && count < 20 {
                buffer[19 - count] = UInt8(48 + rest % 10)
                rest /= 10
                count += 1
            }
            out.append(contentsOf: buffer[(20 - count)...])
        }
    }
}
