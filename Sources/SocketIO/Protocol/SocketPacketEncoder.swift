/// A packet in wire form: one text message followed by zero or more binary messages.
public struct SocketEncodedPacket: Sendable, Hashable {
    /// UTF-8 text of the packet, e.g. `2/chat,12["msg","hi"]`.
    public var text: [UInt8]
    /// Binary attachments to send, in order, right after the text.
    public var attachments: [[UInt8]]

    /// Creates an encoded packet.
    public init(text: [UInt8], attachments: [[UInt8]] = []) {
        self.text = text
        self.attachments = attachments
    }

    /// The text as a `String`.
    public var textString: String {
        String(decoding: text, as: UTF8.self)
    }
}

/// Encodes Socket.IO v5 packets:
/// `<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]`.
///
/// Output is written straight into byte arrays, and
/// ``encodeEvent(namespace:name:rawArguments:ackId:attachmentCount:)`` lets a
/// server relay already-serialised arguments without touching them.
public struct SocketPacketEncoder: Sendable {
    /// Creates an encoder (it is stateless; one can be shared freely).
    public init() {}

    /// Encodes a packet. EVENT and ACK packets holding `binary` values become
    /// BINARY_EVENT / BINARY_ACK with placeholders; BINARY_* types without
    /// binary values are sent as plain EVENT / ACK. A `.null` payload is
    /// omitted, as the reference encoder omits `null`.
    public func encode(_ packet: SocketPacket) throws(SocketProtocolError) -> SocketEncodedPacket {
        var text: [UInt8] = []
        text.reserveCapacity(64)
        let attachments = try encode(packet, appendingTextTo: &text)
        return SocketEncodedPacket(text: text, attachments: attachments)
    }

    /// Appends the packet's text to `text` and returns its attachments.
    /// Throws for a namespace not starting with `/` or containing `,`, a
    /// negative ack id, or binary data in a type that cannot carry it.
    public func encode(
        _ packet: SocketPacket,
        appendingTextTo text: inout [UInt8]
    ) throws(SocketProtocolError) -> [[UInt8]] {
        let plainType = packet.type.plain
        // Like the reference (`null != obj.data`), a JSON null payload is no payload.
        let payload = packet.data.flatMap { $0.isNull ? Optional<JSONValue>.none : $0 }
        var binaryCount = 0
        if let data = payload {
            binaryCount = SocketBinaryPlaceholders.binaryCount(in: data)
            if binaryCount > 0, plainType != .event, plainType != .ack {
                throw .binaryNotAllowed(packet.type)
            }
        }
        let wireType: SocketPacketType
        if binaryCount > 0 {
            wireType = plainType == .event ? .binaryEvent : .binaryAck
        } else {
            wireType = plainType
        }
        try Self.appendHeader(
            type: wireType,
            attachmentCount: binaryCount,
            namespace: packet.namespace,
            ackId: packet.id,
            to: &text
        )
        guard let data = payload else { return [] }
        if binaryCount == 0 {
            JSONSerializer.serialize(data, into: &text)
            return []
        }
        var attachments: [[UInt8]] = []
        attachments.reserveCapacity(binaryCount)
        JSONSerializer.serializeExtractingBinary(data, into: &text, attachments: &attachments)
        return attachments
    }

    /// Encodes an EVENT whose arguments are already JSON text.
    ///
    /// - Parameters:
    ///   - namespace: target namespace.
    ///   - name: event name (escaped here).
    ///   - rawArguments: the comma-separated argument values that go after the
    ///     name inside the array, e.g. `"hi",{"a":1}` (typically
    ///     ``SocketRawData/eventArguments``); empty for no arguments. Not validated.
    ///   - ackId: acknowledgement id, if one is requested.
    ///   - attachmentCount: number of attachments the arguments' placeholders
    ///     reference; non-zero makes this a BINARY_EVENT.
    /// - Returns: the packet text; send the attachments after it yourself.
    public func encodeEvent(
        namespace: String = "/",
        name: String,
        rawArguments: some Collection<UInt8>,
        ackId: Int? = nil,
        attachmentCount: Int = 0
    ) throws(SocketProtocolError) -> [UInt8] {
        var text: [UInt8] = []
        text.reserveCapacity(name.utf8.count + rawArguments.count + namespace.utf8.count + 16)
        try encodeEvent(
            namespace: namespace,
            name: name,
            rawArguments: rawArguments,
            ackId: ackId,
            attachmentCount: attachmentCount,
            appendingTo: &text
        )
        return text
    }

    /// Appending form of ``encodeEvent(namespace:name:rawArguments:ackId:attachmentCount:)``.
    public func encodeEvent(
        namespace: String = "/",
        name: String,
        rawArguments: some Collection<UInt8>,
        ackId: Int? = nil,
        attachmentCount: Int = 0,
        appendingTo text: inout [UInt8]
    ) throws(SocketProtocolError) {
        guard attachmentCount >= 0 else { throw .invalidAttachmentCount }
        try Self.appendHeader(
            type: attachmentCount > 0 ? .binaryEvent : .event,
            attachmentCount: attachmentCount,
            namespace: namespace,
            ackId: ackId,
            to: &text
        )
        text.append(0x5B)
        JSONSerializer.appendQuoted(name, into: &text)
        if !rawArguments.isEmpty {
            text.append(0x2C)
            text.append(contentsOf: rawArguments)
        }
        text.append(0x5D)
    }

    /// Encodes an ACK whose arguments are already JSON text (comma-separated
    /// values, e.g. ``SocketRawData/ackArguments``; empty for none).
    public func encodeAck(
        namespace: String = "/",
        id: Int,
        rawArguments: some Collection<UInt8>,
        attachmentCount: Int = 0
    ) throws(SocketProtocolError) -> [UInt8] {
        guard attachmentCount >= 0 else { throw .invalidAttachmentCount }
        var text: [UInt8] = []
        text.reserveCapacity(rawArguments.count + namespace.utf8.count + 16)
        try Self.appendHeader(
            type: attachmentCount > 0 ? .binaryAck : .ack,
            attachmentCount: attachmentCount,
            namespace: namespace,
            ackId: id,
            to: &text
        )
        text.append(0x5B)
        text.append(contentsOf: rawArguments)
        text.append(0x5D)
        return text
    }

    /// Writes everything before the JSON payload.
    private static func appendHeader(
        type: SocketPacketType,
        attachmentCount: Int,
        namespace: String,
        ackId: Int?,
        to text: inout [UInt8]
    ) throws(SocketProtocolError) {
        text.append(0x30 + type.rawValue)
        if type.isBinary {
            JSONNumberFormatting.appendInteger(Int64(attachmentCount), to: &text)
            text.append(0x2D)
        }
        // The reference omits both "" and "/" (the main namespace).
        if !namespace.isEmpty, namespace != "/" {
            try validateNamespace(namespace)
            text.append(contentsOf: namespace.utf8)
            text.append(0x2C)
        }
        if let ackId {
            guard ackId >= 0 else { throw .invalidAckId }
            JSONNumberFormatting.appendInteger(Int64(ackId), to: &text)
        }
    }

    /// A namespace must start with `/` (the decoder recognises it by that) and
    /// must not contain `,` (which terminates it on the wire).
    private static func validateNamespace(_ namespace: String) throws(SocketProtocolError) {
        guard namespace.utf8.first == 0x2F, !namespace.utf8.contains(0x2C) else {
            throw .invalidNamespace(namespace)
        }
    }
}
