import EngineIO
import Foundation

/// What the client sent when it connected to a namespace (Node's `socket.handshake`).
public struct SocketHandshake: Sendable {
    /// Headers of the request that opened the Engine.IO session.
    public let headers: HTTPHeaders
    /// When the socket was created.
    public let time: Date
    /// Remote address of that request.
    public let address: String
    /// Whether the request was cross-origin (it carried an `Origin` header).
    public let xdomain: Bool
    /// Whether the connection was made over TLS (never, until TLS is terminated here).
    public let secure: Bool
    /// `time` in milliseconds since 1970, as Node reports it.
    public let issued: Int64
    /// The request target, e.g. `/socket.io/?EIO=4&transport=polling`.
    public let url: String
    /// The query parameters of that request.
    public let query: QueryParameters
    /// The CONNECT packet's payload; an empty object when the client sent none.
    public let auth: JSONValue

    public init(request: HTTPRequest, auth: JSONValue, time: Date = Date()) {
        self.headers = request.head.headers
        self.time = time
        self.address = request.remoteAddress
        self.xdomain = request.head.headers["Origin"] != nil
        self.secure = false
        self.issued = Int64((time.timeIntervalSince1970 * 1000).rounded(.down))
        self.url = request.head.target
        self.query = QueryParameters(parsing: request.head.rawQuery)
        self.auth = auth
    }
}
