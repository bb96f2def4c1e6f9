/// A Redis error reply, e.g. "-WRONGPASS invalid username-password pair".
public struct RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The first word of the reply: "ERR", "NOAUTH", "WRONGPASS", "LOADING", ...
    public let code: String
    /// The whole text after the '-', code included, exactly as Redis sent it.
    public let message: String

    /// Makes an error from the text of an error reply (without the '-').
    public init(message: String) {
        self.message = message
        let end = message.firstIndex(of: " ") ?? message.endIndex
        self.code = String(message[..<end])
    }

    /// Redis's message, as sent.
    public var description: String { self.message }
}

/// Why a command did not get a reply.
public enum RedisClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL given to `RedisConfiguration(url:)` could not be used; the text says why.
    case invalidURL(String)
    /// Connecting (TCP, TLS and the HELLO/AUTH/SELECT handshake) took longer than `connectTimeoutMillis`.
    case connectTimeout
    /// No reply within `commandTimeoutMillis`.
    case commandTimeout
    /// The connection dropped with the command in flight; it may or may not have run.
    case connectionClosed
    /// Too many commands waiting while disconnected (`maxQueuedCommands`), or too many bytes of commands
    /// waiting to be sent (`maxOutputBufferBytes`).
    case queueFull
    /// The client was closed by its owner.
    case closed
    /// Malformed reply from the server.
    case protocolError(String)

    /// What went wrong, for logs.
    public var description: String {
        switch self {
        case .invalidURL(let why): return "invalid Redis URL: \(why)"
        case .connectTimeout: return "Redis connect timed out"
        case .commandTimeout: return "Redis command timed out"
        case .connectionClosed: return "Redis connection closed with the command in flight"
        case .queueFull: return "Redis command queue full"
        case .closed: return "Redis client closed"
        case .protocolError(let why): return "Redis protocol error: \(why)"
        }
    }
}

/// The state of a Redis connection, reported through `onStateChange`.
public enum RedisConnectionState: Sendable, Equatable {
    /// Opening the socket or running the handshake.
    case connecting
    /// Ready: commands are sent as they come.
    case connected
    /// The connection failed or dropped; it is retried after a backoff delay.
    case disconnected(reason: String)
    /// Closed by its owner; no further connection is made.
    case closed
}
