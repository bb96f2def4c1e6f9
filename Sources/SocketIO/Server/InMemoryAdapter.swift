import EngineIO
import Synchronization
import Transport

/// The default adapter: rooms of the sockets of this process, kept in one shard per event loop.
///
/// A shard holds the sockets of one loop and their rooms and is touched only on that loop, so membership
/// changes take no lock. A broadcast is serialised once by the caller; the adapter then writes it directly
/// to the shard of the current loop and hops (one `execute` per loop) to the others, which write the same
/// bytes to their members. The only lock guards the short list of shards.
public final class InMemoryAdapter: SocketAdapter {
    /// The namespace served.
    public let namespace: String
    private let shards = Mutex<[AdapterShard]>([])
    /// Sessions and broadcasts kept for connection state recovery; empty and untouched unless enabled.
    private let recovery = RecoverySessionStore()

    /// The adapter of namespace `namespace`.
    public init(namespace: String) {
        self.namespace = namespace
    }

    private func shard(for loop: EventLoop) -> AdapterShard {
        self.shards.withLock { shards in
            if let shard = shards.first(where: { $0.loop === loop }) { return shard }
            let shard = AdapterShard(loop: loop)
            shards.append(shard)
            return shard
        }
    }

    private func existingShard(for loop: EventLoop) -> AdapterShard? {
        self.shards.withLock { shards in shards.first { $0.loop === loop } }
    }

    /// Runs `body` with each of `shards` on its loop (inline for the current loop).
    private func run(on shards: [AdapterShard], _ body: @escaping @Sendable (AdapterShard) -> Void) {
        for shard in shards {
            if shard.loop.inEventLoop {
                body(shard)
            } else {
                shard.loop.execute { body(shard) }
            }
        }
    }

    // MARK: Membership (socket's loop)

    /// SocketAdapter: adds the socket to `rooms`.
    public func addAll(_ socket: Socket, rooms: Set<String>) {
        self.shard(for: socket.loop).addAll(socket, rooms: rooms)
    }

    /// SocketAdapter: adds a new socket to its own room (no set of rooms to build for it).
    public func addToOwnRoom(_ socket: Socket) {
        self.shard(for: socket.loop).addToOwnRoom(socket)
    }

    /// SocketAdapter: removes the socket from `room`.
    public func del(_ socket: Socket, room: String) {
        self.existingShard(for: socket.loop)?.del(socket, room: room)
    }

    /// SocketAdapter: removes the socket from every room.
    public func delAll(_ socket: Socket) {
        self.existingShard(for: socket.loop)?.delAll(socket)
    }

    /// SocketAdapter: the socket's rooms.
    public func socketRooms(_ socket: Socket) -> Set<String> {
        self.existingShard(for: socket.loop)?.rooms(of: socket) ?? []
    }

    // MARK: Fan-out (any thread)

    /// SocketAdapter: writes the packet, encoded once, to every targeted socket.
    public func broadcast(_ packet: SocketBroadcastPacket, options: SocketBroadcastOptions) {
        if let offset = packet.offset {
            self.recovery.record(offset: offset, arguments: [.string(packet.event)] + packet.arguments, target: options)
        }
        let volatile = options.flags.volatile
        let compress = options.flags.compress ?? true
        self.run(on: self.shards.withLock { $0 }) { shard in
            shard.apply(options) { socket in socket.deliver(packet, volatile: volatile, compress: compress) }
        }
    }

    /// SocketAdapter: writes the packet to every targeted socket, collecting their answers.
    public func broadcastWithAck(_ packet: SocketBroadcastPacket, options: SocketBroadcastOptions,
                                 clientCount: @escaping @Sendable (Int) -> Void,
                                 ack: @escaping @Sendable (Result<[JSONValue], SocketAckError>) -> Void) {
        let volatile = options.flags.volatile
        let compress = options.flags.compress ?? true
        let timeoutMillis = options.flags.timeoutMillis
        let shards = self.shards.withLock { $0 }
        if shards.isEmpty {
            clientCount(0)
            return
        }
        let tally = CompletionTally(parts: shards.count) { total in clientCount(total) }
        self.run(on: shards) { shard in
            var count = 0
            shard.apply(options) { socket in
                if socket.deliver(packet, volatile: volatile, compress: compress, timeoutMillis: timeoutMillis, ack: ack) { count += 1 }
            }
            tally.finish(part: count)
        }
    }

    // MARK: Connection state recovery

    /// SocketAdapter: keeps sessions and sent packets for connection state recovery.
    public func enableRecovery(_ options: ConnectionStateRecoveryOptions) {
        self.recovery.enable(options)
    }

    /// SocketAdapter: keeps the session of a socket that left for a recoverable reason.
    public func persistSession(_ session: SocketSession) {
        self.recovery.persist(session)
    }

    /// SocketAdapter: the kept session and the packets it missed, if still known.
    public func restoreSession(pid: String, offset: String, completion: @escaping @Sendable (RecoveredSocketSession?) -> Void) {
        completion(self.recovery.restore(pid: pid, offset: offset))
    }

    /// SocketAdapter: runs `body` on each targeted socket, on its loop.
    public func forEachLocalSocket(_ options: SocketBroadcastOptions, _ body: @escaping @Sendable (Socket) -> Void,
                                   completion: (@Sendable () -> Void)?) {
        let shards = self.shards.withLock { $0 }
        if shards.isEmpty {
            completion?()
            return
        }
        let tally = CompletionTally(parts: shards.count) { _ in completion?() }
        self.run(on: shards) { shard in
            // Collect first: the body may change memberships (join, leave, disconnect).
            var targets: [Socket] = []
            shard.apply(options) { targets.append($0) }
            for socket in targets { body(socket) }
            tally.finish(part: 0)
        }
    }
}

/// Sums per-shard results and reports once all shards have answered.
final class CompletionTally: Sendable {
    private let state: Mutex<(remaining: Int, total: Int)>
    private let done: @Sendable (Int) -> Void

    init(parts: Int, done: @escaping @Sendable (Int) -> Void) {
        self.state = Mutex((remaining: parts, total: 0))
        self.done = done
    }

    func finish(part value: Int) {
        let total: Int? = self.state.withLock { state in
            state.total += value
            state.remaining -= 1
            return state.remaining == 0 ? state.total : nil
        }
        if let total { self.done(total) }
    }
}

/// The sockets of one namespace on one loop, and their rooms.
///
/// A socket's own room (its id) is implicit, as it is in Node's adapter logically: the member entry, found by
/// id, says whether the socket is in it, and `rooms` holds only rooms joined by name. An idle socket that
/// joined nothing then costs one dictionary entry, not a set of rooms plus a one-member room each.
final class AdapterShard: @unchecked Sendable {
    // Invariant for @unchecked Sendable: `members` and `rooms` are read and written on `loop` only.
    // They skip dynamic exclusivity checks (two per connection): no access to them spans a call that could
    // reach them again (the walks over them copy the dictionary before calling out).
    let loop: EventLoop
    /// Sockets by id.
    @exclusivity(unchecked) private var members: [MemberKey: Member] = [:]
    /// Rooms joined by name (a socket's own id room is not kept here).
    @exclusivity(unchecked) private var rooms: [String: [ObjectIdentifier: Socket]] = [:]

    private struct Member {
        let socket: Socket
        /// Rooms joined by name; empty (no storage) for a socket only in its own room.
        var rooms: Set<String> = []
        /// Whether the socket is in its own id room (it is from its connect until it leaves it).
        var inOwnRoom = false
    }

    init(loop: EventLoop) {
        self.loop = loop
    }

    func addAll(_ socket: Socket, rooms: Set<String>) {
        let id = socket.id
        var member = self.members.removeValue(forKey: MemberKey(id)) ?? Member(socket: socket)
        // Another socket under the same id (never expected: ids are random) is replaced, as a re-add would.
        if member.socket !== socket {
            self.forget(member)
            member = Member(socket: socket)
        }
        let key = ObjectIdentifier(socket)
        for room in rooms {
            if room == id {
                member.inOwnRoom = true
            } else if member.rooms.insert(room).inserted {
                self.rooms[room, default: [:]][key] = socket
            }
        }
        self.members[MemberKey(id)] = member
    }

    func addToOwnRoom(_ socket: Socket) {
        var taken = false
        // One hash lookup: the entry is made in place when the socket has none yet (always, in practice).
        Self.markOwnRoom(of: socket, in: &self.members[MemberKey(socket.id), default: Member(socket: socket)], taken: &taken)
        if taken { self.addAll(socket, rooms: [socket.id]) }
    }

    /// Marks `member` as in its own room if it is `socket`'s entry; sets `taken` if another socket holds the id.
    private static func markOwnRoom(of socket: Socket, in member: inout Member, taken: inout Bool) {
        if member.socket === socket { member.inOwnRoom = true } else { taken = true }
    }

    func del(_ socket: Socket, room: String) {
        let key = MemberKey(socket.id)
        guard self.members[key]?.socket === socket else { return }
        if room == socket.id {
            self.members[key]?.inOwnRoom = false
            return
        }
        self.members[key]?.rooms.remove(room)
        self.removeFromRoom(room, key: ObjectIdentifier(socket))
    }

    func delAll(_ socket: Socket) {
        // One hash lookup: remove, and put back the entry of another socket under this id (never expected).
        let key = MemberKey(socket.id)
        guard let member = self.members.removeValue(forKey: key) else { return }
        guard member.socket === socket else {
            self.members[key] = member
            return
        }
        self.forget(member)
    }

    private func forget(_ member: Member) {
        let key = ObjectIdentifier(member.socket)
        for room in member.rooms { self.removeFromRoom(room, key: key) }
    }

    private func removeFromRoom(_ room: String, key: ObjectIdentifier) {
        // In place: a copy of the room taken out and stored back would copy every member (a room of n sockets
        // emptied one by one: n² entries copied).
        guard self.rooms[room]?.removeValue(forKey: key) != nil, self.rooms[room]?.isEmpty == true else { return }
        self.rooms[room] = nil
    }

    func rooms(of socket: Socket) -> Set<String> {
        guard let member = self.members[MemberKey(socket.id)], member.socket === socket else { return [] }
        return member.inOwnRoom ? member.rooms.union([socket.id]) : member.rooms
    }

    /// Calls `body` for each member of `room`: the sockets that joined it by name, and the socket whose id
    /// it is (when still in its own room).
    private func forEachMember(of room: String, _ body: (Socket) -> Void) {
        if let members = self.rooms[room] {
            for socket in members.values { body(socket) }
        }
        if let owner = self.members[MemberKey(room)], owner.inOwnRoom { body(owner.socket) }
    }

    /// Calls `body` once for each socket targeted by `options`.
    func apply(_ options: SocketBroadcastOptions, _ body: (Socket) -> Void) {
        var excluded = Set<ObjectIdentifier>()
        for room in options.except {
            self.forEachMember(of: room) { excluded.insert(ObjectIdentifier($0)) }
        }
        if options.rooms.isEmpty {
            for member in self.members.values where !excluded.contains(ObjectIdentifier(member.socket)) { body(member.socket) }
        } else if options.rooms.count == 1, let room = options.rooms.first {
            // One room: a socket is in it once (by name, or as its owner; never both).
            self.forEachMember(of: room) { socket in
                if !excluded.contains(ObjectIdentifier(socket)) { body(socket) }
            }
        } else {
            var seen = Set<ObjectIdentifier>()
            for room in options.rooms {
                self.forEachMember(of: room) { socket in
                    let key = ObjectIdentifier(socket)
                    if !excluded.contains(key) && seen.insert(key).inserted { body(socket) }
                }
            }
        }
    }
}

/// A socket id as the key of a shard's members: the ids are generated at random (or recovered ones that
/// were), so the table hashes them with `GeneratedIDHash` rather than SipHash (a room name looked up here
/// only ever finds its owner). A string still, not the id's bytes inline: 16 bytes a slot, not 32, for
/// every idle connection.
private struct MemberKey: Hashable {
    let id: String

    init(_ id: String) {
        self.id = id
    }

    static func == (lhs: Self, rhs: Self) -> Bool { lhs.id == rhs.id }

    func hash(into hasher: inout Hasher) {
        hasher.combine(self._rawHashValue(seed: 0))
    }

    func _rawHashValue(seed: Int) -> Int {
        // The bytes in place (every native string has them), without a copy of the string.
        if let hash = self.id.utf8.withContiguousStorageIfAvailable({ GeneratedIDHash.hash(UnsafeRawBufferPointer($0), seed: seed) }) {
            return hash
        }
        var id = self.id
        return id.withUTF8 { GeneratedIDHash.hash(UnsafeRawBufferPointer($0), seed: seed) }
    }
}
