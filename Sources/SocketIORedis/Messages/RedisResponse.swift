import SocketIO

/// A response on `K-response#N#` (or a node's specific response channel).
///
/// Responses to types 0, 1 and 5 carry no `type`: the asker knows what it asked. `sockets` is kept raw
/// (socket ids for type 0, socket details for type 5).
public enum RedisResponse: Sendable, Hashable {
    /// Answer to type 0 or 5: `{requestId, sockets}`.
    case sockets(requestId: String, sockets: [JSONValue])
    /// Answer to type 1: `{requestId, rooms}`.
    case allRooms(requestId: String, rooms: [String])
    /// Answer to a server-side emit: `{type: 6, requestId, data}` (no `data` when the listener answered
    /// with nothing).
    case serverSideEmit(requestId: String, data: JSONValue?)
    /// How many clients a node wrote an acknowledged broadcast to: `{type: 8, requestId, clientCount}`.
    case clientCount(requestId: String, count: Int)
    /// One acknowledgement, MessagePack `{type: 9, requestId, packet}` (no `packet` for an empty answer).
    case ack(requestId: String, value: JSONValue?)
    /// Answer to the single-socket forms of types 2, 3 and 4: `{requestId}`.
    case done(requestId: String)

    /// The id of the request answered.
    public var requestId: String {
        switch self {
        case .sockets(let id, _), .allRooms(let id, _), .serverSideEmit(let id, _), .clientCount(let id, _),
             .ack(let id, _), .done(let id):
            return id
        }
    }

    /// The payload to publish: compact JSON with Node's key order, MessagePack for acknowledgements.
    public func encode() -> [UInt8] {
        switch self {
        case .sockets(let requestId, let sockets):
            return RedisPayload.json([("requestId", .string(requestId)), ("sockets", .array(sockets))])
        case .allRooms(let requestId, let rooms):
            return RedisPayload.json([("requestId", .string(requestId)), ("rooms", .array(rooms.map(JSONValue.string)))])
        case .serverSideEmit(let requestId, let data):
            var pairs: [(String, JSONValue)] = [("type", .int(6)), ("requestId", .string(requestId))]
            if let data { pairs.append(("data", data)) }
            return RedisPayload.json(pairs)
        case .clientCount(let requestId, let count):
            return RedisPayload.json([("type", .int(8)), ("requestId", .string(requestId)),
                                      ("clientCount", .int(Int64(count)))])
        case .ack(let requestId, let value):
            var pairs: [(String, JSONValue)] = [("type", .int(9)), ("requestId", .string(requestId))]
            if let value { pairs.append(("packet", value)) }
            return RedisPayload.messagePack(pairs)
        case .done(let requestId):
            return RedisPayload.json([("requestId", .string(requestId))])
        }
    }

    /// Reads a response (JSON or MessagePack).
    public static func decode(_ bytes: [UInt8]) throws(RedisMessageError) -> RedisResponse {
        try self.init(json: RedisPayload.decode(bytes))
    }

    /// Reads a response from its decoded form.
    public init(json: JSONValue) throws(RedisMessageError) {
        guard case .object(let object) = json, let requestId = object["requestId"]?.stringValue else {
            throw .invalidField("requestId")
        }
        switch object["type"]?.intValue {
        case RedisRequestType.serverSideEmit.rawValue:
            self = .serverSideEmit(requestId: requestId, data: object["data"])
        case RedisRequestType.broadcastClientCount.rawValue:
            guard let count = object["clientCount"]?.intValue else { throw .invalidField("clientCount") }
            self = .clientCount(requestId: requestId, count: count)
        case RedisRequestType.broadcastAck.rawValue:
            self = .ack(requestId: requestId, value: object["packet"])
        case .some(let other):
            throw .unknownType(other)
        case nil:
            if case .array(let sockets)? = object["sockets"] {
                self = .sockets(requestId: requestId, sockets: sockets)
            } else if let rooms = object["rooms"], case .array = rooms {
                self = .allRooms(requestId: requestId, rooms: RedisTarget.strings(rooms))
            } else {
                self = .done(requestId: requestId)
            }
        }
    }
}
