/// What feeding one message to the decoder produced.
public enum SocketDecodeResult: Sendable, Hashable {
    /// A complete packet.
    case packet(SocketPacket)
    /// A binary packet header was read; this many binary messages must follow.
    case awaitingAttachments(remaining: Int)
}

/// Stateful Socket.IO v5 decoder for one connection.
///
/// Text messages are decoded at once unless they announce binary
/// attachments; then the following binary messages are collected and the
/// placeholders filled. Validation matches the reference parser
/// (`socket.io-parser`'s decoder and `isPacketValid`), plus the protocol
/// rule that EVENT and ACK payloads are mandatory. After any thrown error the
/// pending state is dropped; the caller should close the connection, as the
/// reference server does.
public struct SocketPacketDecoder: Sendable {
    /// Event names only the library may emit; the reference decoder rejects
    /// EVENT packets that use them.
    public static let reservedEventNames: Set<String> = [
        "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
    ]

    /// Largest attachment count accepted in one packet (reference default: 10).
    public var maxAttachments: Int
    /// Whether EVENTs named in ``reservedEventNames`` are rejected (reference: yes).
    public var rejectsReservedEventNames: Bool
    /// Whether EVENT/ACK packets keep their payload text in ``SocketPacket/rawData``.
    public var keepsRawData: Bool
    /// Nesting limit handed to the JSON parser.
    public var maxDepth: Int

    /// The packet waiting for its attachments and those received so far, boxed (and replaced, never
    /// mutated, so copies of the decoder stay independent): the decoder sits in every connection's state, and
    /// an inline packet cost about 100 bytes per idle connection.
    private var pendingState: PendingAttachments?

    private final class PendingAttachments: Sendable {
        let packet: SocketPacket
        let buffers: [[UInt8]]

        init(packet: SocketPacket, buffers: [[UInt8]]) {
            self.packet = packet
            self.buffers = buffers
        }
    }

    /// Creates a decoder.
    public init(
        maxAttachments: Int = 10,
        rejectsReservedEventNames: Bool = true,
        keepsRawData: Bool = true,
        maxDepth: Int = JSONParser.defaultMaxDepth
    ) {
        self.maxAttachments = maxAttachments
        self.rejectsReservedEventNames = rejectsReservedEventNames
        self.keepsRawData = keepsRawData
        self.maxDepth = maxDepth
    }

    /// Whether binary messages are expected next.
    public var isAwaitingAttachments: Bool { pendingState != nil }

    /// How many binary messages are still expected.
    public var remainingAttachments: Int {
        guard let pendingState else { return 0 }
        return pendingState.packet.attachments - pendingState.buffers.count
    }

    /// Drops a half-received binary packet (e.g. when the connection closes).
    public mutating func reset() {
        pendingState = nil
    }

    /// Decodes a text message.
    public mutating func decode(text: String) throws(SocketProtocolError) -> SocketDecodeResult {
        if keepsRawData {
            // Raw data must outlive this call, so the bytes are copied once into
            // an array that the packet's raw slice then shares.
            return try decode(text: ArraySlice(text.utf8))
        }
        var text = text
        let parsed: Result<ParsedText, SocketProtocolError> = text.withUTF8 { buffer in
            Result { () throws(SocketProtocolError) in try parseText(buffer) }
        }
        return try accept(parsed, source: nil)
    }

    /// Decodes a text message given as UTF-8 bytes.
    public mutating func decode(text: [UInt8]) throws(SocketProtocolError) -> SocketDecodeResult {
        try decode(text: text[...])
    }

    /// Decodes a text message given as UTF-8 bytes; ``SocketPacket/rawData``
    /// shares the slice's storage instead of copying it.
    public mutating func decode(text: ArraySlice<UInt8>) throws(SocketProtocolError) -> SocketDecodeResult {
        let parsed: Result<ParsedText, SocketProtocolError> = text.withUnsafeBufferPointer { buffer in
            Result { () throws(SocketProtocolError) in try parseText(buffer) }
        }
        return try accept(parsed, source: keepsRawData ? text : nil)
    }

    /// Decodes a binary message (an attachment of the pending packet).
    public mutating func decode(binary: [UInt8]) throws(SocketProtocolError) -> SocketDecodeResult {
        guard let state = pendingState else { throw .unexpectedBinaryAttachment }
        var packet = state.packet
        let buffers = state.buffers + [binary]
        if buffers.count < packet.attachments {
            pendingState = PendingAttachments(packet: packet, buffers: buffers)
            return .awaitingAttachments(remaining: packet.attachments - buffers.count)
        }
        let raw = packet.rawData
        reset()
        if let data = packet.data {
            packet.data = try SocketBinaryPlaceholders.fill(data, with: buffers)
            // Assigning data cleared the raw text; it still describes this payload.
            packet.rawData = raw
        }
        return .packet(packet)
    }

    // MARK: - Text parsing

    /// The header and payload of a text message, before state handling.
    private struct ParsedText {
        var type: SocketPacketType
        var attachments: Int
        var namespace: String
        var id: Int?
        var data: JSONValue?
        /// Offset of the JSON payload within the message, and its element ranges (relative).
        var payloadStart: Int
        var elementRanges: [Range<Int>]
    }

    private mutating func accept(
        _ parsed: Result<ParsedText, SocketProtocolError>,
        source: ArraySlice<UInt8>?
    ) throws(SocketProtocolError) -> SocketDecodeResult {
        guard pendingState == nil else {
            reset()
            throw .unexpectedTextPacket
        }
        let text = try parsed.get()
        var packet = SocketPacket(
            type: text.type.plain,
            namespace: text.namespace,
            data: text.data,
            id: text.id,
            attachments: text.attachments
        )
        if let source, text.data != nil, text.type.plain == .event || text.type.plain == .ack {
            let base = source.startIndex + text.payloadStart
            packet.rawData = SocketRawData(
                bytes: source[base..<source.endIndex],
                elementRanges: text.elementRanges.map { (base + $0.lowerBound)..<(base + $0.upperBound) }
            )
        }
        guard text.type.isBinary else { return .packet(packet) }
        pendingState = PendingAttachments(packet: packet, buffers: [])
        return .awaitingAttachments(remaining: text.attachments)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte &- 0x30 < 10
    }

    /// Parses `<type>[<n>-][<nsp>,][<id>][<json>]` and validates the payload.
    private func parseText(_ bytes: UnsafeBufferPointer<UInt8>) throws(SocketProtocolError) -> ParsedText {
        guard let first = bytes.first else { throw .emptyPacket }
        guard Self.isDigit(first), let type = SocketPacketType(rawValue: first - 0x30) else {
            throw .invalidPacketType(first)
        }
        var i = 1

        var attachments = 0
        if type.isBinary {
            let start = i
            var value = 0
            while i < bytes.count, Self.isDigit(bytes[i]) {
                // Saturate instead of overflowing; anything this large is over the limit anyway.
                value = min(value * 10 + Int(bytes[i] - 0x30), Int(Int32.max))
                i += 1
            }
            guard i > start, i < bytes.count, bytes[i] == 0x2D, value >= 1 else {
                throw .invalidAttachmentCount
            }
            guard value <= maxAttachments else {
                throw .tooManyAttachments(count: value, limit: maxAttachments)
            }
            attachments = value
            i += 1
        }

        var namespace = "/"
        if i < bytes.count, bytes[i] == 0x2F {
            // The namespace runs to the first comma (consumed) or the end of the message.
            let start = i
            while i < bytes.count, bytes[i] != 0x2C { i += 1 }
            namespace = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
            if i < bytes.count { i += 1 }
        }

        var id: Int?
        if i < bytes.count, Self.isDigit(bytes[i]) {
            var value = 0
            while i < bytes.count, Self.isDigit(bytes[i]) {
                let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(Int(bytes[i] - 0x30))
                guard !o1, !o2 else { throw .invalidAckId }
                value = sum
                i += 1
            }
            id = value
        }

        var data: JSONValue?
        var elementRanges: [Range<Int>] = []
        let payloadStart = i
        if i < bytes.count {
            do {
                let parsed = try JSONParser.parseRecordingElements(
                    UnsafeBufferPointer(rebasing: bytes[i..<bytes.count]),
                    maxDepth: maxDepth
                )
                data = parsed.value
                elementRanges = parsed.elementRanges
            } catch {
                throw .invalidJSON(JSONParseError(error.kind, offset: error.offset + payloadStart))
            }
        }

        try validatePayload(data, type: type)
        if type.isBinary, let data {
            try SocketBinaryPlaceholders.validate(data, attachmentCount: attachments)
        }
        return ParsedText(
            type: type,
            attachments: attachments,
            namespace: namespace,
            id: id,
            data: data,
            payloadStart: payloadStart,
            elementRanges: elementRanges
        )
    }

    /// The payload rules of the reference `isPacketValid`, with EVENT, ACK and
    /// CONNECT_ERROR payloads mandatory as the protocol specification demands.
    private func validatePayload(_ data: JSONValue?, type: SocketPacketType) throws(SocketProtocolError) {
        switch type.plain {
        case .connect:
            guard data == nil || data?.objectValue != nil else { throw .invalidPayload(type) }
        case .disconnect:
            guard data == nil else { throw .invalidPayload(type) }
        case .connectError:
            guard case .some(.string) = data else {
                guard data?.objectValue != nil else { throw .invalidPayload(type) }
                return
            }
        case .event, .binaryEvent:
            guard case let .array(elements)? = data, let first = elements.first else {
                throw .invalidPayload(type)
            }
            switch first {
            case .int, .double:
                return
            case let .string(name):
                if rejectsReservedEventNames, Self.reservedEventNames.contains(name) {
                    throw .reservedEventName(name)
                }
            default:
                throw .invalidPayload(type)
            }
        case .ack, .binaryAck:
            guard case .array? = data else { throw .invalidPayload(type) }
        }
    }
}
