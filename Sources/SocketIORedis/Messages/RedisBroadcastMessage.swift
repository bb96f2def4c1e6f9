import MessagePack
import SocketIO

/// A broadcast on `K#N#` or `K#N#room#`: MessagePack `[uid, packet, {rooms, except, flags}]`.
public struct RedisBroadcastMessage: Sendable, Hashable {
    /// Key order of the options map: the adapter writes `rooms, except, flags`, the emitter
    /// `rooms, flags, except`.
    public enum Layout: Sendable, Hashable {
        /// `@socket.io/redis-adapter`.
        case adapter
        /// `@socket.io/redis-emitter`.
        case emitter
    }

    /// The publishing adapter's uid (`emitter` for the emitter).
    public var uid: String
    /// The event.
    public var packet: RedisEventPacket
    /// Targeted rooms, in order (all sockets when empty).
    public var rooms: [String]
    /// Rooms whose members are left out.
    public var except: [String]
    /// Modifiers.
    public var flags: RedisBroadcastFlags
    /// How the options map is laid out.
    public var layout: Layout

    /// A broadcast.
    public init(uid: String, packet: RedisEventPacket, rooms: [String], except: [String],
                flags: RedisBroadcastFlags, layout: Layout = .adapter) {
        self.uid = uid
        self.packet = packet
        self.rooms = rooms
        self.except = except
        self.flags = flags
        self.layout = layout
    }

    /// The payload to publish.
    public func encode() -> [UInt8] {
        let rooms = JSONValue.array(self.rooms.map(JSONValue.string))
        let except = JSONValue.array(self.except.map(JSONValue.string))
        let options: [(String, JSONValue)] = switch self.layout {
        case .adapter: [("rooms", rooms), ("except", except), ("flags", self.flags.json)]
        case .emitter: [("rooms", rooms), ("flags", self.flags.json), ("except", except)]
        }
        let message = JSONValue.array([.string(self.uid), self.packet.json, .object(JSONObject(options))])
        var output: [UInt8] = []
        output.reserveCapacity(128)
        RedisPayload.appendMessagePack(message, to: &output)
        return output
    }

    /// Reads a published broadcast.
    public static func decode(_ bytes: [UInt8]) throws(RedisMessageError) -> RedisBroadcastMessage {
        let value: MessagePackValue
        do {
            value = try MessagePackDecoder.decode(bytes)
        } catch {
            throw .malformed("MessagePack: \(error)")
        }
        guard case .array(let parts) = JSONValue(value), parts.count >= 3 else {
            throw .invalidField("a broadcast is [uid, packet, opts]")
        }
        guard let packet = RedisEventPacket(json: parts[1]) else { throw .invalidField("packet") }
        let options = parts[2]
        let target = RedisTarget(json: options)
        let keys = options.objectValue?.keys ?? []
        let emitterOrder = (keys.firstIndex(of: "flags") ?? 0) < (keys.firstIndex(of: "except") ?? 0)
        return RedisBroadcastMessage(uid: parts[0].stringValue ?? "", packet: packet, rooms: target.rooms,
                                     except: target.except, flags: RedisBroadcastFlags(json: options["flags"]),
                                     layout: emitterOrder ? .emitter : .adapter)
    }
}
