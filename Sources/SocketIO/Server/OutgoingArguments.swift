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

    /// Appends an EVENT relaying argument JSON text (as `encodeEvent` writes it); false when the namespace
    /// cannot be encoded.
    static func appendEvent(namespace: String, name: String, raw: ArraySlice<UInt8>, ackID: Int?,
                            to text: inout [UInt8]) -> Bool {
        (try? self.encoder.encodeEvent(namespace: namespace, name: name, rawArguments: raw, ackId: ackID,
                                       appendingTo: &text)) != nil
    }

    /// Appends an ACK relaying argument JSON text (as `encodeAck` writes it: `3[/nsp,]<id>[<raw>]`); false
    /// when the namespace cannot be encoded or the id is negative.
    static func appendAck(namespace: String, id: Int, raw: ArraySlice<UInt8>, to text: inout [UInt8]) -> Bool {
        guard id >= 0 else { return false }
        text.append(0x30 + SocketPacketType.ack.rawValue)
        if !namespace.isEmpty, namespace != "/" {
            guard namespace.utf8.first == 0x2F, !namespace.utf8.contains(0x2C) else { return false }
            text.append(contentsOf: namespace.utf8)
            text.append(0x2C)
        }
        JSONNumberFormatting.appendInteger(Int64(id), to: &text)
        text.append(0x5B)
        text.append(contentsOf: raw)
        text.append(0x5D)
        return true
    }

    /// A control packet (CONNECT, CONNECT_ERROR, DISCONNECT).
    static func control(_ packet: SocketPacket) -> SocketEncodedPacket? {
        try? self.encoder.encode(packet)
    }
}
