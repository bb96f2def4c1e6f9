import SocketIO

/// A request on `K-request#N#`, one case per form a Node node (or the emitter) may send.
///
/// `uid` is the sending adapter's uid; the emitter sends none (nil) except on server-side emits.
public enum RedisRequest: Sendable, Hashable {
    /// Type 0: ids of the sockets in `rooms`.
    case sockets(uid: String?, requestId: String, rooms: [String])
    /// Type 1: every room.
    case allRooms(uid: String?, requestId: String)
    /// Type 2: the targeted sockets join `rooms`.
    case join(uid: String?, target: RedisTarget, rooms: [String])
    /// Type 3: the targeted sockets leave `rooms`.
    case leave(uid: String?, target: RedisTarget, rooms: [String])
    /// Type 4: the targeted sockets are disconnected (and their connections closed with `close`).
    case disconnect(uid: String?, target: RedisTarget, close: Bool)
    /// Types 2 and 3 in their older single-socket form (`sid`, `room`), answered with `{requestId}`.
    case socketRoom(type: RedisRequestType, uid: String?, requestId: String?, socketId: String, room: String)
    /// Type 4 in its older single-socket form.
    case disconnectSocket(uid: String?, requestId: String?, socketId: String, close: Bool)
    /// Type 5: details of the targeted sockets.
    case fetch(uid: String?, requestId: String, target: RedisTarget)
    /// Type 6: an event for the other servers, `data` = `[event, ...args]`; answered when `requestId` is set.
    case serverSideEmit(uid: String?, requestId: String?, data: [JSONValue])
    /// Type 7: a broadcast whose acknowledgements are collected (MessagePack).
    case broadcast(uid: String?, requestId: String, packet: RedisEventPacket, target: RedisTarget,
                   flags: RedisBroadcastFlags)

    /// The sender's uid.
    public var uid: String? {
        switch self {
        case .sockets(let uid, _, _), .allRooms(let uid, _), .join(let uid, _, _), .leave(let uid, _, _),
             .disconnect(let uid, _, _), .socketRoom(_, let uid, _, _, _), .disconnectSocket(let uid, _, _, _),
             .fetch(let uid, _, _), .serverSideEmit(let uid, _, _), .broadcast(let uid, _, _, _, _):
            return uid
        }
    }

    /// The request id, for the forms that carry one.
    public var requestId: String? {
        switch self {
        case .sockets(_, let id, _), .allRooms(_, let id), .fetch(_, let id, _), .broadcast(_, let id, _, _, _):
            return id
        case .socketRoom(_, _, let id, _, _), .disconnectSocket(_, let id, _, _), .serverSideEmit(_, let id, _):
            return id
        case .join, .leave, .disconnect:
            return nil
        }
    }

    /// The payload to publish: compact JSON with Node's key order, MessagePack for type 7.
    public func encode() -> [UInt8] {
        var pairs: [(String, JSONValue)] = []
        if let uid = self.uid { pairs.append(("uid", .string(uid))) }
        switch self {
        case .sockets(_, let requestId, let rooms):
            pairs += [("requestId", .string(requestId)), ("type", Self.type(.sockets)), ("rooms", Self.strings(rooms))]
        case .allRooms(_, let requestId):
            pairs += [("requestId", .string(requestId)), ("type", Self.type(.allRooms))]
        case .join(_, let target, let rooms):
            pairs += [("type", Self.type(.remoteJoin)), ("opts", target.json), ("rooms", Self.strings(rooms))]
        case .leave(_, let target, let rooms):
            pairs += [("type", Self.type(.remoteLeave)), ("opts", target.json), ("rooms", Self.strings(rooms))]
        case .disconnect(_, let target, let close):
            pairs += [("type", Self.type(.remoteDisconnect)), ("opts", target.json), ("close", .bool(close))]
        case .socketRoom(let type, _, let requestId, let socketId, let room):
            if let requestId { pairs.append(("requestId", .string(requestId))) }
            pairs += [("type", Self.type(type)), ("sid", .string(socketId)), ("room", .string(room))]
        case .disconnectSocket(_, let requestId, let socketId, let close):
            if let requestId { pairs.append(("requestId", .string(requestId))) }
            pairs += [("type", Self.type(.remoteDisconnect)), ("sid", .string(socketId)), ("close", .bool(close))]
        case .fetch(_, let requestId, let target):
            pairs += [("requestId", .string(requestId)), ("type", Self.type(.remoteFetch)), ("opts", target.json)]
        case .serverSideEmit(_, let requestId, let data):
            if let requestId { pairs.append(("requestId", .string(requestId))) }
            pairs += [("type", Self.type(.serverSideEmit)), ("data", .array(data))]
        case .broadcast(_, let requestId, let packet, let target, let flags):
            pairs += [("requestId", .string(requestId)), ("type", Self.type(.broadcast)), ("packet", packet.json),
                      ("opts", .object(JSONObject([("rooms", Self.strings(target.rooms)),
                                                   ("except", Self.strings(target.except)),
                                                   ("flags", flags.json)])))]
            return RedisPayload.messagePack(pairs)
        }
        return RedisPayload.json(pairs)
    }

    /// Reads a request (JSON or MessagePack).
    public static func decode(_ bytes: [UInt8]) throws(RedisMessageError) -> RedisRequest {
        try self.init(json: RedisPayload.decode(bytes))
    }

    /// Reads a request from its decoded form.
    public init(json: JSONValue) throws(RedisMessageError) {
        guard case .object = json, let number = json["type"]?.intValue else { throw .invalidField("type") }
        guard let type = RedisRequestType(rawValue: number) else { throw .unknownType(number) }
        let uid = json["uid"]?.stringValue
        let requestId = json["requestId"]?.stringValue
        func required(_ id: String?) throws(RedisMessageError) -> String {
            guard let id else { throw .invalidField("requestId") }
            return id
        }
        switch type {
        case .sockets:
            self = .sockets(uid: uid, requestId: try required(requestId), rooms: RedisTarget.strings(json["rooms"]))
        case .allRooms:
            self = .allRooms(uid: uid, requestId: try required(requestId))
        case .remoteJoin, .remoteLeave:
            if let opts = json["opts"], !opts.isNull {
                let rooms = RedisTarget.strings(json["rooms"])
                self = type == .remoteJoin
                    ? .join(uid: uid, target: RedisTarget(json: opts), rooms: rooms)
                    : .leave(uid: uid, target: RedisTarget(json: opts), rooms: rooms)
            } else {
                guard let socketId = json["sid"]?.stringValue else { throw .invalidField("sid") }
                guard let room = json["room"]?.stringValue ?? json["room"]?.intValue.map(String.init) else {
                    throw .invalidField("room")
                }
                self = .socketRoom(type: type, uid: uid, requestId: requestId, socketId: socketId, room: room)
            }
        case .remoteDisconnect:
            let close = json["close"]?.boolValue ?? false
            if let opts = json["opts"], !opts.isNull {
                self = .disconnect(uid: uid, target: RedisTarget(json: opts), close: close)
            } else {
                guard let socketId = json["sid"]?.stringValue else { throw .invalidField("sid") }
                self = .disconnectSocket(uid: uid, requestId: requestId, socketId: socketId, close: close)
            }
        case .remoteFetch:
            self = .fetch(uid: uid, requestId: try required(requestId), target: RedisTarget(json: json["opts"]))
        case .serverSideEmit:
            guard case .array(let data)? = json["data"] else { throw .invalidField("data") }
            self = .serverSideEmit(uid: uid, requestId: requestId, data: data)
        case .broadcast:
            guard let packet = json["packet"].flatMap(RedisEventPacket.init(json:)) else { throw .invalidField("packet") }
            let opts = json["opts"]
            self = .broadcast(uid: uid, requestId: try required(requestId), packet: packet,
                              target: RedisTarget(json: opts), flags: RedisBroadcastFlags(json: opts?["flags"]))
        case .broadcastClientCount, .broadcastAck:
            throw .unknownType(number)
        }
    }

    private static func type(_ type: RedisRequestType) -> JSONValue { .int(Int64(type.rawValue)) }

    private static func strings(_ strings: [String]) -> JSONValue { .array(strings.map(JSONValue.string)) }
}
