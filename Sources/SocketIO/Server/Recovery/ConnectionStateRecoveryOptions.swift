import Synchronization
import Transport

/// Connection state recovery (Node's `connectionStateRecovery`, socket.io 4.6+): a client that lost its
/// connection and comes back within `maxDisconnectionDuration` gets its socket id, rooms and data back, and
/// the broadcasts it missed.
public struct ConnectionStateRecoveryOptions: Sendable, Hashable {
    /// Milliseconds a disconnected socket's session and the broadcasts it may miss are kept.
    public var maxDisconnectionDuration = 120_000
    /// Whether a recovered socket skips the namespace's middlewares (it passed them when it first connected).
    public var skipMiddlewares = true
    /// Most broadcast packets kept for replay per namespace (Node keeps them all): beyond it the oldest go,
    /// and a client whose last offset went with them reconnects as a new socket.
    public var maxStoredPackets = 10_000

    /// Node's defaults.
    public init() {}
}

/// The session of a disconnected socket, as kept by an adapter until the client comes back.
public struct SocketSession: Sendable {
    /// The socket id it had, and gets back.
    public let id: String
    /// The private session id the client presents to recover.
    public let pid: String
    /// Its rooms, its own id room included.
    public let rooms: Set<String>
    /// Its `socket.data`.
    public let data: SocketData

    /// A kept session.
    public init(id: String, pid: String, rooms: Set<String>, data: SocketData) {
        self.id = id
        self.pid = pid
        self.rooms = rooms
        self.data = data
    }
}

/// A session found again, with the broadcasts sent to its rooms since the client's last offset.
public struct RecoveredSocketSession: Sendable {
    /// The session as it was persisted.
    public let session: SocketSession
    /// The arguments of each missed EVENT (`[event, ...args, offset]`), oldest first.
    public let missedPackets: [[JSONValue]]

    /// A session and the packets it missed.
    public init(session: SocketSession, missedPackets: [[JSONValue]]) {
        self.session = session
        self.missedPackets = missedPackets
    }
}

/// Recovery helpers shared by the adapters.
public enum ConnectionStateRecovery {
    /// The disconnect reasons after which a session is kept (Node's `RECOVERABLE_DISCONNECT_REASONS`): the
    /// connection was lost or cut, not closed on purpose by either side.
    public static let recoverableReasons: Set<SocketDisconnectReason> = [
        .transportError, .transportClose, .forcedClose, .pingTimeout, .serverShuttingDown, .forcedServerClose,
    ]

    /// Whether a broadcast to `target` reached a socket in `rooms` (Node's `shouldIncludePacket`).
    public static func reaches(rooms: Set<String>, target: SocketBroadcastOptions) -> Bool {
        let included = target.rooms.isEmpty || !target.rooms.isDisjoint(with: rooms)
        return included && target.except.isDisjoint(with: rooms)
    }

    private static let prefix = SocketID.generate().prefix(8)
    private static let counter = Atomic<UInt64>(0)

    /// A new broadcast offset, unique across processes (a random process prefix and a counter).
    public static func nextOffset() -> String {
        let value = self.counter.wrappingAdd(1, ordering: .relaxed).newValue
        return "\(self.prefix)-\(String(value, radix: 36))"
    }

    /// Milliseconds of a monotonic clock, for expiry.
    static func nowMillis() -> Int64 {
        Int64(monotonicNanos() / 1_000_000)
    }
}
