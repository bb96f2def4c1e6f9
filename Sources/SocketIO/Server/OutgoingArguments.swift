import Transport

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

    /// The length of the EVENT (`name` given) or ACK (`name` nil) that `appendRelayed` writes, or nil when
    /// that form does not apply: a namespace that cannot be encoded, a negative id, or an event name that
    /// needs JSON escapes (those take `appendEvent` / `appendAck`). `name` is the name's UTF-8.
    static func relayedLength(namespace: String, name: UnsafeBufferPointer<UInt8>?, raw: ArraySlice<UInt8>, id: Int?) -> Int? {
        var length = 3 + raw.count  // type digit, brackets
        if Self.namesNamespace(namespace) {
            guard namespace.utf8.first == 0x2F, !namespace.utf8.contains(0x2C) else { return nil }
            length += namespace.utf8.count + 1
        }
        if let id {
            guard id >= 0 else { return nil }
            length += decimalDigits(id)
        }
        if let name {
            for byte in name where byte < 0x20 || byte == 0x22 || byte == 0x5C { return nil }
            length += name.count + 2 + (raw.isEmpty ? 0 : 1)
        }
        return length
    }

    /// Writes what `relayedLength` measured: the same bytes `appendEvent` (with `name`) or `appendAck`
    /// (without) write, for the cases `relayedLength` accepted.
    static func writeRelayed(namespace: String, name: UnsafeBufferPointer<UInt8>?, raw: borrowing ArraySlice<UInt8>, id: Int?,
                             into writer: inout RawByteWriter) {
        writer.put(0x30 + (name == nil ? SocketPacketType.ack : SocketPacketType.event).rawValue)
        if Self.namesNamespace(namespace) {
            for byte in namespace.utf8 { writer.put(byte) }
            writer.put(0x2C)
        }
        if let id { writer.putDecimal(id) }
        writer.put(0x5B)
        if let name {
            writer.put(0x22)
            writer.put(name)
            writer.put(0x22)
            if !raw.isEmpty { writer.put(0x2C) }
        }
        writer.put(raw)
        writer.put(0x5D)
    }

    /// The length of the CONNECT answer `appendConnect` writes (`0[/nsp,]{"sid":"…"[,"pid":"…"]}`, as the
    /// encoder writes a `.connect` packet with that object), or nil when the encoder must write it: a
    /// namespace it refuses, or ids that would need JSON escapes (generated ids never do).
    static func connectLength(namespace: String, sid: String, pid: String?) -> Int? {
        var length = 11 + sid.utf8.count  // 0{"sid":""}
        if Self.namesNamespace(namespace) {
            guard namespace.utf8.first == 0x2F, !namespace.utf8.contains(0x2C) else { return nil }
            length += namespace.utf8.count + 1
        }
        guard Self.isPlainJSONText(sid) else { return nil }
        if let pid {
            guard Self.isPlainJSONText(pid) else { return nil }
            length += 9 + pid.utf8.count  // ,"pid":""
        }
        return length
    }

    /// Appends what `connectLength` measured.
    static func appendConnect(namespace: String, sid: String, pid: String?, to text: inout [UInt8]) {
        text.append(0x30 + SocketPacketType.connect.rawValue)
        if Self.namesNamespace(namespace) {
            text.append(contentsOf: namespace.utf8)
            text.append(0x2C)
        }
        text.append(contentsOf: #"{"sid":""#.utf8)
        text.append(contentsOf: sid.utf8)
        if let pid {
            text.append(contentsOf: #"","pid":""#.utf8)
            text.append(contentsOf: pid.utf8)
        }
        text.append(contentsOf: #""}"#.utf8)
    }

    /// Whether `string` is written in JSON as its own bytes between quotes.
    private static func isPlainJSONText(_ string: String) -> Bool {
        var string = string
        // Over the contiguous bytes: the UTF-8 view's iterator cost several times as much per connection.
        return string.withUTF8 { ByteWord.isPlainJSONText($0, asciiOnly: false) }
    }

    /// Whether a packet names `namespace` (the encoder omits "" and "/", the main one), by length first.
    @inline(__always)
    private static func namesNamespace(_ namespace: String) -> Bool {
        let count = namespace.utf8.count
        return count > 1 || (count == 1 && namespace != "/")
    }

    /// How many decimal digits a non-negative `value` has.
    private static func decimalDigits(_ value: Int) -> Int {
        var digits = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        return digits
    }

    /// A control packet (CONNECT, CONNECT_ERROR, DISCONNECT).
    static func control(_ packet: SocketPacket) -> SocketEncodedPacket? {
        try? self.encoder.encode(packet)
    }
}
