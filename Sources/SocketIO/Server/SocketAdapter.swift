import Synchronization

/// Modifiers of a broadcast (Node's `BroadcastFlags`).
public struct SocketBroadcastFlags: Sendable, Hashable {
    /// Skip sockets whose transport is busy.
    public var volatile = false
    /// False sends the packets uncompressed over WebSockets that negotiated permessage-deflate; nil or true
    /// lets the server's threshold decide.
    public var compress: Bool?
    /// Only this server's sockets, for adapters that span several servers.
    public var local = false
    /// Milliseconds to wait for acknowledgements.
    public var timeoutMillis: Int?
    /// The emitter expects one answer (a `RemoteSocket`), not a list.
    public var expectSingleResponse = false

    /// No modifier.
    public init() {}
}

/// Which sockets a broadcast or a bulk operation targets: members of any of `rooms` (all sockets when
/// empty), minus members of any of `except`.
public struct SocketBroadcastOptions: Sendable {
    /// Targeted rooms; every socket when empty.
    public var rooms: Set<String>
    /// Rooms whose members are left out.
    public var except: Set<String>
    /// Modifiers.
    public var flags: SocketBroadcastFlags

    /// Targets members of `rooms` (all when empty) but members of `except`.
    public init(rooms: Set<String> = [], except: Set<String> = [], flags: SocketBroadcastFlags = SocketBroadcastFlags()) {
        self.rooms = rooms
        self.except = except
        self.flags = flags
    }
}

/// What is known of a socket anywhere in the cluster (Node's `SocketDetails`): a copy, not a live view.
public struct SocketSnapshot: Sendable {
    /// The socket's id.
    public let id: String
    /// Its handshake.
    public let handshake: SocketHandshake
    /// Its rooms.
    public let rooms: Set<String>
    /// Its data.
    public let data: SocketData

    /// A snapshot of these values.
    public init(id: String, handshake: SocketHandshake, rooms: Set<String>, data: SocketData) {
        self.id = id
        self.handshake = handshake
        self.rooms = rooms
        self.data = data
    }
}

/// Rooms and fan-out of one namespace (Node's socket.io-adapter).
///
/// Membership calls come from the socket's own loop and must answer synchronously. Everything else may be
/// called from any thread and reports through completion handlers, so an adapter that talks to other servers
/// (Redis, a cluster bus) can implement them without blocking a loop. The in-memory adapter is the default;
/// another adapter typically wraps one for local delivery and adds the cross-server part, without changes
/// to `Namespace` or `Socket`.
public protocol SocketAdapter: AnyObject, Sendable {
    /// Adds `socket` to `rooms`, registering it on first use. On the socket's loop.
    func addAll(_ socket: Socket, rooms: Set<String>)
    /// Adds a newly connected `socket` to its own id room, its only room then. On the socket's loop. The
    /// default is `addAll` with that one room.
    func addToOwnRoom(_ socket: Socket)
    /// Removes `socket` from `room`. On the socket's loop.
    func del(_ socket: Socket, room: String)
    /// Removes `socket` from every room and forgets it. On the socket's loop.
    func delAll(_ socket: Socket)
    /// The rooms `socket` is in. On the socket's loop.
    func socketRooms(_ socket: Socket) -> Set<String>

    /// Writes `packet` to every targeted socket.
    func broadcast(_ packet: SocketBroadcastPacket, options: SocketBroadcastOptions)
    /// Writes `packet` asking each targeted socket for an answer; `clientCount` is called once per server
    /// with the number of sockets written to, `ack` once per answer (or `.disconnected`).
    func broadcastWithAck(_ packet: SocketBroadcastPacket, options: SocketBroadcastOptions,
                          clientCount: @escaping @Sendable (Int) -> Void,
                          ack: @escaping @Sendable (Result<[JSONValue], SocketAckError>) -> Void)
    /// Runs `body` on each targeted local socket, on that socket's loop, then `completion` (from any thread).
    func forEachLocalSocket(_ options: SocketBroadcastOptions, _ body: @escaping @Sendable (Socket) -> Void,
                            completion: (@Sendable () -> Void)?)

    /// Snapshots of the targeted sockets.
    func fetchSockets(_ options: SocketBroadcastOptions, completion: @escaping @Sendable ([SocketSnapshot]) -> Void)
    /// Ids of the sockets in any of `rooms` (every socket when empty).
    func sockets(in rooms: Set<String>, completion: @escaping @Sendable (Set<String>) -> Void)
    /// Makes the targeted sockets join `rooms`.
    func addSockets(_ options: SocketBroadcastOptions, rooms: Set<String>)
    /// Makes the targeted sockets leave `rooms`.
    func delSockets(_ options: SocketBroadcastOptions, rooms: Set<String>)
    /// Disconnects the targeted sockets (and closes their connections with `close`).
    func disconnectSockets(_ options: SocketBroadcastOptions, close: Bool)
    /// Number of servers in the cluster (1 for a single server).
    func serverCount(completion: @escaping @Sendable (Int) -> Void)
    /// Every room of the namespace on every server (socket-id rooms included).
    func allRooms(completion: @escaping @Sendable (Set<String>) -> Void)
    /// Sends `packet` (`[event, ...args]`) to the namespace's server-side listeners on the other servers.
    /// With `ack`, gathers each other server's answer until `timeoutMillis` (the adapter's own bound when
    /// nil), then calls `ack` once: no error when every server answered, `.timeout` and the answers so far
    /// otherwise. A single server has no other server: `ack` is called at once with no answer.
    func serverSideEmit(_ packet: [JSONValue], timeoutMillis: Int?,
                        ack: (@Sendable (_ error: SocketAckError?, _ responses: [JSONValue]) -> Void)?)
    /// Installs the namespace's entry for server-side events arriving from other servers (`args` is
    /// `[event, ...args]`; `ack` is nil when the sender expects no answer). The namespace calls it once.
    func onServerSideEmit(_ handler: @escaping @Sendable (_ args: [JSONValue], _ ack: (@Sendable (JSONValue) -> Void)?) -> Void)
    /// How long a broadcast with acknowledgements but without `timeout(_:)` may wait for other servers;
    /// nil when there are none to wait for (the wait is then unbounded, as for local sockets).
    var remoteAckWaitMillis: Int? { get }
    /// Releases resources; the namespace is going away.
    func close()

    /// Turns on connection state recovery: from now on the adapter keeps the broadcasts that carry an offset
    /// (`packet.offset`) and the sessions it is given. The namespace calls it once, before any socket joins.
    func enableRecovery(_ options: ConnectionStateRecoveryOptions)
    /// Keeps the session of a socket that disconnected for a recoverable reason.
    func persistSession(_ session: SocketSession)
    /// Takes back session `pid` with the broadcasts sent to its rooms after `offset`, or nil (unknown or
    /// expired session, offset no longer kept). `completion` may run on any thread.
    func restoreSession(pid: String, offset: String, completion: @escaping @Sendable (RecoveredSocketSession?) -> Void)
}

extension SocketAdapter {
    /// Default: `addAll` with the socket's id as the only room.
    public func addToOwnRoom(_ socket: Socket) {
        self.addAll(socket, rooms: [socket.id])
    }

    /// Snapshots of the targeted local sockets.
    public func fetchSockets(_ options: SocketBroadcastOptions, completion: @escaping @Sendable ([SocketSnapshot]) -> Void) {
        let found = Mutex<[SocketSnapshot]>([])
        self.forEachLocalSocket(options, { socket in
            let snapshot = SocketSnapshot(id: socket.id, handshake: socket.handshake, rooms: socket.rooms, data: socket.data)
            found.withLock { $0.append(snapshot) }
        }, completion: {
            completion(found.withLock { $0 })
        })
    }

    /// Ids of the local sockets in `rooms` (all when empty).
    public func sockets(in rooms: Set<String>, completion: @escaping @Sendable (Set<String>) -> Void) {
        let found = Mutex<Set<String>>([])
        self.forEachLocalSocket(SocketBroadcastOptions(rooms: rooms), { socket in
            found.withLock { _ = $0.insert(socket.id) }
        }, completion: {
            completion(found.withLock { $0 })
        })
    }

    /// Makes the targeted local sockets join `rooms`.
    public func addSockets(_ options: SocketBroadcastOptions, rooms: Set<String>) {
        let rooms = Array(rooms)
        self.forEachLocalSocket(options, { $0.join(rooms) }, completion: nil)
    }

    /// Makes the targeted local sockets leave `rooms`.
    public func delSockets(_ options: SocketBroadcastOptions, rooms: Set<String>) {
        let rooms = Array(rooms)
        self.forEachLocalSocket(options, { $0.leave(rooms) }, completion: nil)
    }

    /// Disconnects the targeted local sockets.
    public func disconnectSockets(_ options: SocketBroadcastOptions, close: Bool) {
        self.forEachLocalSocket(options, { $0.disconnect(close: close) }, completion: nil)
    }

    /// One server.
    public func serverCount(completion: @escaping @Sendable (Int) -> Void) {
        completion(1)
    }

    /// The rooms of this server's sockets.
    public func allRooms(completion: @escaping @Sendable (Set<String>) -> Void) {
        let found = Mutex<Set<String>>([])
        self.forEachLocalSocket(SocketBroadcastOptions(), { socket in
            let rooms = socket.rooms
            found.withLock { $0.formUnion(rooms) }
        }, completion: {
            completion(found.withLock { $0 })
        })
    }

    /// A single server has no other server: nothing is sent, `ack` gets no error and no answer at once.
    public func serverSideEmit(_ packet: [JSONValue], timeoutMillis: Int?,
                               ack: (@Sendable (_ error: SocketAckError?, _ responses: [JSONValue]) -> Void)?) {
        ack?(nil, [])
    }

    /// A single server receives no server-side events.
    public func onServerSideEmit(_ handler: @escaping @Sendable (_ args: [JSONValue], _ ack: (@Sendable (JSONValue) -> Void)?) -> Void) {}

    /// No other server to wait for.
    public var remoteAckWaitMillis: Int? { nil }

    /// Nothing to release.
    public func close() {}

    /// An adapter without a session store cannot recover: sessions are not kept.
    public func enableRecovery(_ options: ConnectionStateRecoveryOptions) {}

    /// Not kept (see `enableRecovery`).
    public func persistSession(_ session: SocketSession) {}

    /// Never found (see `enableRecovery`).
    public func restoreSession(pid: String, offset: String, completion: @escaping @Sendable (RecoveredSocketSession?) -> Void) {
        completion(nil)
    }
}

/// Builds the adapter of a namespace, given its name.
public typealias SocketAdapterFactory = @Sendable (_ namespace: String) -> any SocketAdapter
