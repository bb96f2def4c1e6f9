import Foundation
import Synchronization

/// Why a client socket was disconnected; the raw values are the JavaScript client's reasons.
public enum ClientDisconnectReason: String, Sendable, Hashable, CustomStringConvertible {
    /// The server disconnected the socket (`socket.disconnect()` on the server). No reconnection.
    case ioServerDisconnect = "io server disconnect"
    /// The client called `disconnect()`. No reconnection.
    case ioClientDisconnect = "io client disconnect"
    /// The server sent no ping within pingInterval + pingTimeout. Reconnects.
    case pingTimeout = "ping timeout"
    /// The connection was closed (the server stopped, the network dropped). Reconnects.
    case transportClose = "transport close"
    /// The connection failed. Reconnects.
    case transportError = "transport error"
    /// The server sent an invalid packet. Reconnects.
    case parseError = "parse error"

    /// Whether the client reconnects by itself after this reason (when reconnection is enabled).
    public var reconnects: Bool { self != .ioServerDisconnect && self != .ioClientDisconnect }

    public var description: String { self.rawValue }
}

/// Why a socket could not connect to its namespace.
public struct ClientConnectError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable, Hashable {
        /// The server refused the namespace (a middleware error, or no such namespace). The socket does
        /// not retry by itself, as the JavaScript client.
        case refused
        /// The connection to the server could not be opened; the manager retries when reconnection is on.
        case transport
        /// Opening took longer than the manager's `timeout`.
        case timeout
    }

    /// What went wrong.
    public var kind: Kind
    /// The message (the server's `message` for a refusal).
    public var message: String
    /// The server's `data` for a refusal, if any.
    public var data: JSONValue?

    /// Creates an error.
    public init(kind: Kind, message: String, data: JSONValue? = nil) {
        self.kind = kind
        self.message = message
        self.data = data
    }

    public var description: String { self.message }
}

/// Why an acknowledgement did not arrive.
public enum ClientAckError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No answer within the timeout.
    case timeout
    /// The socket was disconnected after the event was sent.
    case disconnected
    /// The waiting task was cancelled.
    case cancelled

    public var description: String {
        switch self {
        case .timeout: return "operation has timed out"
        case .disconnected: return "socket has been disconnected"
        case .cancelled: return "cancelled"
        }
    }
}

/// Answers a server's event that asked for an acknowledgement. Call it once; later calls are ignored.
public final class ClientAck: Sendable {
    private let sender: @Sendable ([JSONValue]) -> Void
    private let used = Atomic<Bool>(false)

    init(_ sender: @escaping @Sendable ([JSONValue]) -> Void) {
        self.sender = sender
    }

    /// Sends the acknowledgement with `arguments`.
    public func send(arguments: [JSONValue]) {
        guard !self.used.exchange(true, ordering: .relaxed) else { return }
        self.sender(arguments)
    }

    /// Sends the acknowledgement with the given arguments.
    public func callAsFunction(_ arguments: JSONValue...) {
        self.send(arguments: arguments)
    }

    /// Sends one argument encoded from an `Encodable` value.
    public func send(encoding value: some Encodable) throws {
        self.send(arguments: [try JSONValue(encoding: value)])
    }

    /// Whether the acknowledgement was sent.
    public var isSent: Bool { self.used.load(ordering: .relaxed) }
}

/// An event received from the server.
public struct ClientEventMessage: Sendable {
    /// The event name.
    public var name: String
    /// The arguments after the name.
    public var arguments: [JSONValue]
    /// Set when the server asked for an acknowledgement.
    public var ack: ClientAck?

    /// The first argument decoded as `T`.
    public func decode<T: Decodable>(_ type: T.Type = T.self, at index: Int = 0) throws -> T {
        guard index < self.arguments.count else { throw ClientDecodingError.missingArgument(index) }
        return try self.arguments[index].decode(T.self)
    }
}

/// A missing event argument.
public enum ClientDecodingError: Error, Sendable, Hashable {
    /// There is no argument at this index.
    case missingArgument(Int)
}

/// Everything that happens to a client socket, for `for await event in socket.events()`.
public enum ClientSocketEvent: Sendable {
    /// The socket joined its namespace.
    case connect
    /// The socket could not join its namespace.
    case connectError(ClientConnectError)
    /// The socket left its namespace.
    case disconnect(ClientDisconnectReason)
    /// An event from the server.
    case event(ClientEventMessage)
}

/// What happens to a manager's connection, for `manager.events()` and `manager.onEvent`.
public enum SocketManagerEvent: Sendable, Hashable {
    /// The Engine.IO session opened.
    case open
    /// The Engine.IO session closed.
    case close(reason: String)
    /// Opening failed.
    case error(String)
    /// A reconnection attempt starts (its 1-based number).
    case reconnectAttempt(Int)
    /// A reconnection attempt failed.
    case reconnectError(String)
    /// Reconnected after this many attempts.
    case reconnect(Int)
    /// All `reconnectionAttempts` failed; the manager stopped trying.
    case reconnectFailed
}

/// An id returned by handler registrations, for removing the handler again.
public struct ClientHandlerID: Sendable, Hashable {
    let value: Int
}

extension JSONValue {
    /// A binary argument from `Data`.
    public static func data(_ data: Data) -> JSONValue { .binary([UInt8](data)) }

    /// The bytes of a binary value as `Data`.
    public var dataValue: Data? { self.binaryValue.map { Data($0) } }
}
