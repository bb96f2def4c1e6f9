/// Arguments on their way out: values to serialise, or received arguments whose JSON text can be relayed.
enum OutgoingArguments: Sendable {
    case values([JSONValue])
    case forwarded(SocketArguments)

    var values: [JSONValue] {
        switch self {
        case .values(let values): return values
        case .forwarded(let arguments): return arguments.values
        }
    }

    /// The arguments as comma-separated JSON text (binary values as placeholders) and their attachments.
    /// Received plain-JSON arguments are copied as they arrived.
    func serialized() -> (text: [UInt8], attachments: [[UInt8]]) {
        if case .forwarded(let arguments) = self, let raw = arguments.rawText {
            return (Array(raw), [])
        }
        let values = self.values
        if values.isEmpty { return ([], []) }
        var text: [UInt8] = []
        var attachments: [[UInt8]] = []
        // Serialising the whole array numbers placeholders across arguments; the brackets are dropped after.
        JSONSerializer.serializeExtractingBinary(.array(values), into: &text, attachments: &attachments)
        return (Array(text[1..<(text.count - 1)]), attachments)
    }
}

/// Packet encoding shared by sockets, acknowledgements and broadcasts.
enum OutgoingPacket {
    static let encoder = SocketPacketEncoder()

    /// An EVENT (or BINARY_EVENT) packet; nil when the namespace cannot be encoded.
    static func event(namespace: String, name: String, arguments: OutgoingArguments, ackID: Int?) -> SocketEncodedPacket? {
        if case .forwarded(let forwarded) = arguments, let raw = forwarded.rawText {
            guard let text = try? self.encoder.encodeEvent(namespace: namespace, name: name, rawArguments: raw, ackId: ackID) else {
                return nil
            }
            return SocketEncodedPacket(text: text)
        }
        return try? self.encoder.encode(SocketPacket.event(name, arguments.values, namespace: namespace, id: ackID))
    }

    /// An ACK (or BINARY_ACK) packet.
    static func ack(namespace: String, id: Int, arguments: OutgoingArguments) -> SocketEncodedPacket? {
        if case .forwarded(let forwarded) = arguments, let raw = forwarded.rawText {
            guard let text = try? self.encoder.encodeAck(namespace: namespace, id: id, rawArguments: raw) else { return nil }
            return SocketEncodedPacket(text: text)
        }
        return try? self.encoder.encode(SocketPacket.ack(id: id, arguments.values, namespace: namespace))
    }

    /// A control packet (CONNECT, CONNECT_ERROR, DISCONNECT).
    static func control(_ packet: SocketPacket) -> SocketEncodedPacket? {
        try? self.encoder.encode(packet)
    }
}
