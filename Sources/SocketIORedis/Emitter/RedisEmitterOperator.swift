import SocketIO

/// The targets and flags of one emission from a `RedisEmitter`; each modifier returns a new value.
public struct RedisEmitterOperator: Sendable {
    /// The uid the emitter writes in its broadcasts and server-side emits.
    static let uid = "emitter"
    /// Event names a Socket.IO client reserves.
    static let reservedEvents: Set<String> = [
        "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
    ]

    private let emitter: RedisEmitter
    /// Targeted rooms in the order given (every client when empty).
    public private(set) var rooms: [String] = []
    /// Rooms whose members are left out.
    public private(set) var exceptRooms: [String] = []
    /// Modifiers.
    public private(set) var flags = RedisBroadcastFlags()

    init(emitter: RedisEmitter) {
        self.emitter = emitter
    }

    /// Also targets `room`.
    public func to(_ room: String) -> RedisEmitterOperator { self.to([room]) }

    /// Also targets `rooms`.
    public func to(_ rooms: [String]) -> RedisEmitterOperator {
        var copy = self
        for room in rooms where !copy.rooms.contains(room) { copy.rooms.append(room) }
        return copy
    }

    /// Same as `to`.
    public func `in`(_ room: String) -> RedisEmitterOperator { self.to([room]) }
    /// Same as `to`.
    public func `in`(_ rooms: [String]) -> RedisEmitterOperator { self.to(rooms) }

    /// Leaves out the members of `room`.
    public func except(_ room: String) -> RedisEmitterOperator { self.except([room]) }

    /// Leaves out the members of `rooms`.
    public func except(_ rooms: [String]) -> RedisEmitterOperator {
        var copy = self
        for room in rooms where !copy.exceptRooms.contains(room) { copy.exceptRooms.append(room) }
        return copy
    }

    /// Skips clients whose transport is busy.
    public var volatile: RedisEmitterOperator {
        var copy = self
        copy.flags.volatile = true
        return copy
    }

    /// Compression wish.
    public func compress(_ compress: Bool) -> RedisEmitterOperator {
        var copy = self
        copy.flags.compress = compress
        return copy
    }

    /// Sends `event` to the targeted clients; false (nothing sent) for a reserved event name.
    @discardableResult
    public func emit(_ event: String, _ args: JSONValue...) -> Bool { self.emit(event, arguments: args) }

    /// Sends `event` with `arguments` to the targeted clients.
    @discardableResult
    public func emit(_ event: String, arguments: [JSONValue]) -> Bool {
        if Self.reservedEvents.contains(event) { return false }
        let message = RedisBroadcastMessage(
            uid: Self.uid, packet: RedisEventPacket(event: event, arguments: arguments, namespace: self.emitter.namespace),
            rooms: self.rooms, except: self.exceptRooms, flags: self.flags, layout: .emitter)
        self.emitter.client.publish(self.emitter.channels.broadcastChannel(rooms: self.rooms), message.encode())
        return true
    }

    /// Makes the targeted sockets join `room`.
    public func socketsJoin(_ room: String) { self.socketsJoin([room]) }

    /// Makes the targeted sockets join `rooms`.
    public func socketsJoin(_ rooms: [String]) {
        self.emitter.publish(request: .join(uid: nil, target: self.target, rooms: rooms))
    }

    /// Makes the targeted sockets leave `room`.
    public func socketsLeave(_ room: String) { self.socketsLeave([room]) }

    /// Makes the targeted sockets leave `rooms`.
    public func socketsLeave(_ rooms: [String]) {
        self.emitter.publish(request: .leave(uid: nil, target: self.target, rooms: rooms))
    }

    /// Disconnects the targeted sockets; with `close`, closes their connections.
    public func disconnectSockets(close: Bool = false) {
        self.emitter.publish(request: .disconnect(uid: nil, target: self.target, close: close))
    }

    private var target: RedisTarget { RedisTarget(rooms: self.rooms, except: self.exceptRooms) }
}
