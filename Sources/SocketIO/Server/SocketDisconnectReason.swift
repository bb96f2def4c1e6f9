import EngineIO

/// Why a socket left its namespace, with the reason strings of Node's socket.io.
///
/// A struct with static members rather than an enum, so that an adapter or a future transport can report a
/// reason of its own without breaking exhaustive switches in user code.
public struct SocketDisconnectReason: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The reason as Node names it.
    public let rawValue: String

    /// A reason from its name.
    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The reason of the Engine.IO session that ended (same strings as Node's engine.io).
    public init(_ reason: EngineCloseReason) {
        self.rawValue = reason.rawValue
    }

    public var description: String { self.rawValue }

    /// The client sent a DISCONNECT packet for this namespace.
    public static let clientNamespaceDisconnect = Self(rawValue: "client namespace disconnect")
    /// The server called `socket.disconnect()`.
    public static let serverNamespaceDisconnect = Self(rawValue: "server namespace disconnect")
    /// The client did not answer a ping in time.
    public static let pingTimeout = Self(rawValue: "ping timeout")
    /// The client closed the connection.
    public static let transportClose = Self(rawValue: "transport close")
    /// The connection failed.
    public static let transportError = Self(rawValue: "transport error")
    /// The client sent a packet that is not valid Socket.IO.
    public static let parseError = Self(rawValue: "parse error")
    /// The server is shutting down (`SocketIOServer.close()`).
    public static let serverShuttingDown = Self(rawValue: "server shutting down")
    /// The Engine.IO session was closed by the server.
    public static let forcedClose = Self(rawValue: "forced close")
    /// The server closed the whole connection (`socket.disconnect(close: true)`, connect timeout, protocol misuse).
    public static let forcedServerClose = Self(rawValue: "forced server close")
}
