/// One Socket.IO packet, independent of its wire form.
///
/// Binary payloads are ordinary ``JSONValue/binary(_:)`` values inside
/// ``data``; the encoder turns them into attachments and the decoder puts them
/// back. Decoded packets therefore always have a plain type (`event`/`ack`,
/// never `binaryEvent`/`binaryAck`) just like the reference parser, with
/// ``attachments`` telling how many binary frames were received.
public struct SocketPacket: Sendable {
    /// The packet type.
    public var type: SocketPacketType
    /// The namespace, `/` for the main one.
    public var namespace: String
    /// The payload; `nil` when the packet has none.
    /// Changing it discards ``rawData``, which would no longer match.
    public var data: JSONValue? {
        didSet { rawData = nil }
    }
    /// The acknowledgement id, when the sender expects an ACK.
    public var id: Int?
    /// Number of binary attachments: on decoded packets, how many arrived;
    /// ignored by the encoder, which counts the `binary` values itself.
    public var attachments: Int
    /// The payload's JSON text as received, for forwarding without
    /// re-serialising; set by the decoder for EVENT and ACK packets only and
    /// ignored by `==` and hashing.
    public internal(set) var rawData: SocketRawData?

    /// Creates a packet.
    public init(
        type: SocketPacketType,
        namespace: String = "/",
        data: JSONValue? = nil,
        id: Int? = nil,
        attachments: Int = 0
    ) {
        self.type = type
        self.namespace = namespace
        self.data = data
        self.id = id
        self.attachments = attachments
        self.rawData = nil
    }

    /// A CONNECT packet; `data` is the client's auth object or the server's `{"sid":…}`.
    public static func connect(namespace: String = "/", data: JSONObject? = nil) -> SocketPacket {
        SocketPacket(type: .connect, namespace: namespace, data: data.map { .object($0) })
    }

    /// A DISCONNECT packet.
    public static func disconnect(namespace: String = "/") -> SocketPacket {
        SocketPacket(type: .disconnect, namespace: namespace)
    }

    /// An EVENT packet `[name, arguments…]`; binary arguments make it a BINARY_EVENT on the wire.
    public static func event(
        _ name: String,
        _ arguments: [JSONValue] = [],
        namespace: String = "/",
        id: Int? = nil
    ) -> SocketPacket {
        var elements: [JSONValue] = [.string(name)]
        elements.append(contentsOf: arguments)
        return SocketPacket(type: .event, namespace: namespace, data: .array(elements), id: id)
    }

    /// An ACK packet answering event `id`.
    public static func ack(id: Int, _ arguments: [JSONValue] = [], namespace: String = "/") -> SocketPacket {
        SocketPacket(type: .ack, namespace: namespace, data: .array(arguments), id: id)
    }

    /// A CONNECT_ERROR packet in the v5 form `{"message":…,"data":…}`.
    public static func connectError(namespace: String = "/", message: String, data: JSONValue? = nil) -> SocketPacket {
        var object: JSONObject = ["message": .string(message)]
        if let data { object["data"] = data }
        return SocketPacket(type: .connectError, namespace: namespace, data: .object(object))
    }

    /// Whether this is an EVENT (binary or not).
    public var isEvent: Bool { type.plain == .event }

    /// Whether this is an ACK (binary or not).
    public var isAck: Bool { type.plain == .ack }

    /// The event name of an EVENT packet (a string first element).
    public var eventName: String? {
        guard isEvent else { return nil }
        return data?[0]?.stringValue
    }

    /// The event arguments (elements after the name) of an EVENT packet, or
    /// all elements of an ACK packet; empty otherwise.
    public var arguments: ArraySlice<JSONValue> {
        guard let elements = data?.arrayValue else { return [] }
        if isEvent { return elements.dropFirst() }
        if isAck { return elements[...] }
        return []
    }
}

extension SocketPacket: Hashable {
    /// Compares the protocol fields; ``rawData`` is a cache of ``data`` and is ignored.
    public static func == (lhs: SocketPacket, rhs: SocketPacket) -> Bool {
        lhs.type == rhs.type
            && lhs.namespace == rhs.namespace
            && lhs.id == rhs.id
            && lhs.attachments == rhs.attachments
            && lhs.data == rhs.data
    }

    /// Hashes the same fields `==` compares.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(type)
        hasher.combine(namespace)
        hasher.combine(id)
        hasher.combine(attachments)
        hasher.combine(data)
    }
}
