import EngineIO
import Foundation
import HTTPKit

/// What the client sent when it connected to a namespace (Node's `socket.handshake`).
public struct SocketHandshake: Sendable {
    /// Headers of the request that opened the Engine.IO session.
    public let headers: HTTPHeaders
    /// When the socket was created.
    public let time: Date
    /// Remote address of that request (`X-Forwarded-For`'s when the HTTP server trusts a proxy).
    public let address: String
    /// Whether the request was cross-origin (it carried an `Origin` header).
    public let xdomain: Bool
    /// Whether the client connected over TLS (here, or to a trusted proxy that says so).
    public let secure: Bool
    /// `time` in milliseconds since 1970, as Node reports it.
    public let issued: Int64
    /// The request target, e.g. `/socket.io/?EIO=4&transport=polling`.
    public let url: String
    /// The query parameters of that request.
    public let query: QueryParameters
    /// The CONNECT packet's payload; an empty object when the client sent none.
    public let auth: JSONValue

    /// The details of `request` with the CONNECT packet's `auth`.
    public init(request: HTTPRequest, auth: JSONValue, time: Date = Date()) {
        self.headers = request.head.headers
        self.time = time
        self.address = request.remoteAddress
        self.xdomain = request.head.headers["Origin"] != nil
        self.secure = request.isSecure
        self.issued = Int64((time.timeIntervalSince1970 * 1000).rounded(.down))
        self.url = request.head.target
        self.query = Self.query(of: request.head.target) ?? QueryParameters(parsing: request.head.rawQuery)
        self.auth = auth
    }

    /// A handshake known from elsewhere, e.g. a socket of another server described by a cluster adapter.
    public init(headers: HTTPHeaders, time: Date, address: String, xdomain: Bool, secure: Bool, issued: Int64,
                url: String, query: QueryParameters, auth: JSONValue) {
        self.headers = headers
        self.time = time
        self.address = address
        self.xdomain = xdomain
        self.secure = secure
        self.issued = issued
        self.url = url
        self.query = query
        self.auth = auth
    }

    /// The query of an ASCII target without escapes (`%`, `+`), split as `QueryParameters(parsing:)` splits
    /// it (on `&`, empty pieces skipped, the first `=` separating name and value), which for such text
    /// decodes nothing; nil otherwise. The generic parser costs tens of thousands of instructions per
    /// connection when called from this module.
    static func query(of target: String) -> QueryParameters? {
        var target = target
        return target.withUTF8 { bytes -> QueryParameters? in
            var i = 0
            while i < bytes.count, bytes[i] != 0x3F {  // ?
                guard bytes[i] < 0x80 else { return nil }
                i += 1
            }
            var pairs: [(String, String)] = []
            i += 1
            while i < bytes.count {
                let start = i
                var equals = -1
                while i < bytes.count, bytes[i] != 0x26 {  // &
                    let byte = bytes[i]
                    guard byte < 0x80, byte != 0x25, byte != 0x2B else { return nil }
                    if byte == 0x3D && equals < 0 { equals = i }
                    i += 1
                }
                let end = i
                i += 1
                guard end > start else { continue }
                let nameEnd = equals < 0 ? end : equals
                let name = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<nameEnd]), as: UTF8.self)
                let value = equals < 0 ? "" : String(decoding: UnsafeBufferPointer(rebasing: bytes[(equals + 1)..<end]), as: UTF8.self)
                pairs.append((name, value))
            }
            return QueryParameters(pairs)
        }
    }
}
