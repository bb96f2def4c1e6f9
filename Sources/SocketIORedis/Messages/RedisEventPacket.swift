import SocketIO

/// The Socket.IO packet inside a broadcast or an acknowledged-broadcast request: `{type, data, nsp}` with
/// `data` = `[event, ...arguments]`. Binary arguments stay inline (MessagePack bin) and `type` stays 2.
public struct RedisEventPacket: Sendable, Hashable {
    /// The Socket.IO packet type (2, EVENT).
    public var type: Int
    /// The event name.
    public var event: String
    /// The arguments.
    public var arguments: [JSONValue]
    /// The namespace; a packet without one is for `/`.
    public var namespace: String

    /// An EVENT packet.
    public init(event: String, arguments: [JSONValue], namespace: String, type: Int = 2) {
        self.type = type
        self.event = event
        self.arguments = arguments
        self.namespace = namespace
    }

    /// `{type, data, nsp}`, keys in Node's order.
    public var json: JSONValue {
        .object(JSONObject([
            ("type", .int(Int64(self.type))),
            ("data", .array([.string(self.event)] + self.arguments)),
            ("nsp", .string(self.namespace)),
        ]))
    }

    /// Reads a packet; nil when it is not an event with a name.
    public init?(json: JSONValue) {
        guard case .object(let object) = json, case .array(let data)? = object["data"],
              case .string(let event)? = data.first else { return nil }
        self.type = object["type"]?.intValue ?? 2
        self.event = event
        self.arguments = Array(data.dropFirst())
        self.namespace = object["nsp"]?.stringValue ?? "/"
    }
}
