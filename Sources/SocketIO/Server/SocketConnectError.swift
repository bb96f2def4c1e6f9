/// The error a namespace middleware passes to `next` to refuse a connection.
///
/// The client receives it as CONNECT_ERROR `{"message": message, "data": data}` (what Node sends for an
/// `Error` with a `data` property); `data` is omitted when nil.
public struct SocketConnectError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Sent as `message`.
    public var message: String
    /// Sent as `data` when present.
    public var data: JSONValue?

    /// A refusal with `message` and optional `data` (both reach the client).
    public init(_ message: String, data: JSONValue? = nil) {
        self.message = message
        self.data = data
    }

    public var description: String { self.message }
}

/// Why an acknowledgement did not arrive.
public enum SocketAckError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The timeout given with `timeout(_:)` passed first (Node: "operation has timed out").
    case timeout
    /// The socket disconnected before answering.
    case disconnected

    public var description: String {
        switch self {
        case .timeout: return "operation has timed out"
        case .disconnected: return "socket has been disconnected"
        }
    }
}
