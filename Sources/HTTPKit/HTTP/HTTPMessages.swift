#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The parsed start line and header fields of a request.
public struct HTTPRequestHead: Sendable {
    /// Method token as sent, e.g. `GET` (methods are case-sensitive).
    public var method: String
    /// The request target as sent, e.g. `/socket.io/?EIO=4&transport=polling`.
    public var target: String
    /// The HTTP major version (1).
    public var versionMajor: Int
    /// The HTTP minor version (0 or 1).
    public var versionMinor: Int
    /// The header fields.
    public var headers: HTTPHeaders

    /// A request head, HTTP/1.1 by default.
    public init(method: String, target: String, versionMajor: Int = 1, versionMinor: Int = 1, headers: HTTPHeaders = HTTPHeaders()) {
        self.method = method
        self.target = target
        self.versionMajor = versionMajor
        self.versionMinor = versionMinor
        self.headers = headers
    }

    /// The path part of the target, still percent-encoded.
    public var path: Substring {
        if let q = self.queryMark { return self.target[..<q] }
        return Substring(self.target)
    }

    /// The raw query string after `?`, or an empty string.
    public var rawQuery: Substring {
        if let q = self.queryMark { return self.target[self.target.index(after: q)...] }
        return ""
    }

    /// Where the first `?` Character of the target is. Found in the UTF-8 bytes (memchr over the contiguous
    /// storage): a Character-wise search steps through grapheme breaks and cost about 4,000 instructions per
    /// polling request, a walk of the UTF-8 view about 300. A `?` byte with ASCII (or nothing) on both sides
    /// is a Character of its own, so the answer is the same; any other case (never a parsed target, which is
    /// ASCII) takes the Character-wise search.
    private var queryMark: String.Index? {
        let utf8 = self.target.utf8
        let offset: Int?? = utf8.withContiguousStorageIfAvailable { bytes -> Int? in
            guard let base = bytes.baseAddress, let hit = memchr(base, 0x3F, bytes.count) else { return nil }
            let q = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(hit))
            let alone = (q == 0 || bytes[q - 1] < 0x80) && (q + 1 == bytes.count || bytes[q + 1] < 0x80)
            return alone ? q : -1
        }
        switch offset {
        case .some(.none):
            return nil
        case .some(.some(let q)) where q >= 0:
            return utf8.index(utf8.startIndex, offsetBy: q)
        default:
            return self.target.firstIndex(of: "?")
        }
    }

    /// Whether the connection stays open after this exchange (HTTP/1.1 default, HTTP/1.0 opt-in).
    public var keepAlive: Bool {
        if self.headers.hasToken("close", in: .connection) { return false }
        if self.versionMajor == 1 && self.versionMinor == 0 {
            return self.headers.hasToken("keep-alive", in: .connection)
        }
        return true
    }
}

/// A complete request: head plus the whole body (bodies are bounded by the server's limits).
public struct HTTPRequest: Sendable {
    /// The request line and headers.
    public var head: HTTPRequestHead
    /// The body, complete.
    public var body: [UInt8]
    /// The client's address as text (`127.0.0.1`, `::1`), for logs and handshakes: the peer's, or with
    /// `HTTPServerConfiguration.trustProxy` the one `X-Forwarded-For` names.
    public var remoteAddress: String
    /// Whether the client used https/wss: the connection is TLS, or with `trustProxy` the proxy says so in
    /// `X-Forwarded-Proto`. Decides `Secure` cookies.
    public var isSecure: Bool

    /// A request as the server hands it to handlers.
    public init(head: HTTPRequestHead, body: [UInt8] = [], remoteAddress: String = "", isSecure: Bool = false) {
        self.head = head
        self.body = body
        self.remoteAddress = remoteAddress
        self.isSecure = isSecure
    }

    /// `https` or `http`, after `isSecure`.
    public var scheme: String { self.isSecure ? "https" : "http" }

    /// The method (`GET`, `POST`…).
    public var method: String { self.head.method }
    /// The headers.
    public var headers: HTTPHeaders { self.head.headers }
    /// The target's path, without the query.
    public var path: Substring { self.head.path }
}

/// A response to serialize. The server adds `Content-Length`, `Date` and `Connection` itself.
public struct HTTPResponse: Sendable {
    /// The status code.
    public var status: Int
    /// The header fields.
    public var headers: HTTPHeaders
    /// The body: bytes or a file.
    public var body: Body

    /// Where the body comes from.
    public enum Body: Sendable {
        case bytes([UInt8])
        /// A file streamed from disk: path, byte offset and length.
        case file(path: String, offset: Int, length: Int)
    }

    /// A response with a body in memory.
    public init(status: Int = 200, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = .bytes(body)
    }

    /// A response with any kind of body.
    public init(status: Int = 200, headers: HTTPHeaders = HTTPHeaders(), body: Body) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A text response with a content type.
    public static func text(_ text: String, status: Int = 200, contentType: String = "text/plain; charset=utf-8") -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": contentType], body: Array(text.utf8))
    }
}

/// Receives the response to one request; may be called later and from any thread, exactly once.
public protocol HTTPResponder: Sendable {
    func respond(_ response: HTTPResponse)
}
