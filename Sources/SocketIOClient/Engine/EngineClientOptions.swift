import EngineIO
import HTTPKit
import Transport

/// How the Engine.IO client connects: transports, upgrade, path, query, headers, timeouts, TLS.
public struct EngineClientOptions: Sendable {
    /// The request path of the Engine.IO endpoint (`/socket.io/` for Socket.IO servers).
    public var path: String = "/engine.io/"
    /// Transports to use, in order of preference: the first one opens the session.
    public var transports: [EngineTransport] = [.polling, .websocket]
    /// Whether a polling session tries to upgrade to WebSocket when the server offers it.
    public var upgrade = true
    /// Extra query parameters sent with every request.
    public var query: [(name: String, value: String)] = []
    /// Extra headers sent with every HTTP request and the WebSocket handshake.
    public var extraHeaders: [(name: String, value: String)] = []
    /// Milliseconds allowed to establish the TCP (and TLS) connection.
    public var connectTimeoutMillis = 10_000
    /// Milliseconds allowed for a polling request or the WebSocket handshake to be answered (long polls
    /// get the heartbeat window on top).
    public var requestTimeoutMillis = 20_000
    /// Most packets per polling POST: python-engineio rejects a payload of more than 16.
    public var maxPacketsPerPost = 16
    /// Offer permessage-deflate on WebSocket connections.
    public var perMessageDeflate = false
    /// Messages smaller than this many bytes go out uncompressed even when deflate was negotiated (as `ws`
    /// does): compressing a short message costs more than it saves, and a peer inflating on a thread pool
    /// answers it later.
    public var perMessageDeflateThreshold = PerMessageDeflate.defaultThreshold
    /// Largest message accepted from the server, in bytes.
    public var maxMessageSize = 100 * 1024 * 1024
    /// How streams are opened; `nil` picks plain TCP for http/ws (a TLS connector is set for https/wss).
    public var connector: (any ClientStreamConnector)?

    /// Creates options with the defaults of the JavaScript client.
    public init() {}
}

/// Where an Engine.IO server is: scheme, host, port.
public struct EngineEndpoint: Sendable, Hashable {
    /// Whether TLS is used (https/wss).
    public var secure: Bool
    /// The host name or address.
    public var host: String
    /// The TCP port.
    public var port: Int

    /// Creates an endpoint.
    public init(secure: Bool = false, host: String, port: Int? = nil) {
        self.secure = secure
        self.host = host
        self.port = port ?? (secure ? 443 : 80)
    }

    /// Parses `http://`, `https://`, `ws://` or `wss://` URLs (a missing scheme means http); returns the
    /// endpoint and the URL's path (`/` when empty).
    public static func parse(_ url: String) -> (endpoint: EngineEndpoint, path: String)? {
        var rest = Substring(url)
        var secure = false
        if let range = rest.range(of: "://") {
            let scheme = rest[..<range.lowerBound].lowercased()
            switch scheme {
            case "http", "ws": secure = false
            case "https", "wss": secure = true
            default: return nil
            }
            rest = rest[range.upperBound...]
        }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        var path = String(rest[authorityEnd...].prefix { $0 != "?" && $0 != "#" })
        if path.isEmpty { path = "/" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var host = String(authority)
        var port: Int?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let value = Int(after.dropFirst()) else { return nil }
                port = value
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let value = Int(authority[authority.index(after: colon)...]) else { return nil }
            port = value
        }
        guard !host.isEmpty else { return nil }
        return (EngineEndpoint(secure: secure, host: host, port: port), path)
    }

    /// The `Host` header value.
    var hostHeader: String {
        HTTPClientConnection.hostHeader(host: self.host, port: self.port, defaultPort: self.secure ? 443 : 80)
    }
}

/// Percent-encoding for query components (RFC 3986 unreserved characters pass through).
enum QueryEncoding {
    static func encode(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 15)]))
            }
        }
        return out
    }

    static func build(_ items: [(name: String, value: String)]) -> String {
        items.map { "\(Self.encode($0.name))=\(Self.encode($0.value))" }.joined(separator: "&")
    }
}
