import EngineIO

/// An event on its way to many sockets, serialised once.
///
/// The arguments are serialised when the packet is made; `text` (no acknowledgement) is then shared by every
/// recipient, as one WebSocket frame by all that use WebSocket, and `text(ackID:)` only prepends a header to
/// the same argument bytes.
public struct SocketBroadcastPacket: Sendable {
    /// The namespace it is sent in.
    public let namespace: String
    /// The event name.
    public let event: String
    /// The argument values (for `onAnyOutgoing` listeners and adapters that forward packets elsewhere).
    public let arguments: [JSONValue]
    /// The arguments as comma-separated JSON, binary values as placeholders.
    public let argumentsText: [UInt8]
    /// The binary attachments, in placeholder order.
    public let attachments: [[UInt8]]
    /// The complete packet text without an acknowledgement id.
    public let text: [UInt8]
    /// `text` as an Engine.IO message, framed once for every WebSocket recipient.
    let message: EngineSharedMessage
    /// The recovery offset appended as the last argument, when the namespace recovers connection state
    /// (set by the server that emits the broadcast, nil on the other servers of a cluster).
    public let offset: String?

    /// Serialises `arguments` for `event` in `namespace`.
    public init(namespace: String, event: String, arguments: [JSONValue]) {
        self.init(namespace: namespace, event: event, outgoing: .values(arguments))
    }

    /// Relays received arguments (their JSON text is reused when they had no attachments).
    public init(namespace: String, event: String, arguments: SocketArguments) {
        self.init(namespace: namespace, event: event, outgoing: .forwarded(arguments))
    }

    init(namespace: String, event: String, outgoing: OutgoingArguments, offset: String? = nil) {
        self.namespace = namespace
        self.event = event
        self.offset = offset
        var outgoing = outgoing
        if let offset { outgoing = .values(outgoing.values + [.string(offset)]) }
        self.arguments = outgoing.values
        let serialized = outgoing.serialized()
        self.argumentsText = serialized.text
        self.attachments = serialized.attachments
        let text = (try? OutgoingPacket.encoder.encodeEvent(
            namespace: namespace, name: event, rawArguments: serialized.text,
            ackId: nil, attachmentCount: serialized.attachments.count)) ?? []
        self.text = text
        self.message = EngineSharedMessage(text: text)
    }

    /// The packet text asking for an acknowledgement with `ackID`.
    public func text(ackID: Int) -> [UInt8] {
        (try? OutgoingPacket.encoder.encodeEvent(
            namespace: self.namespace, name: self.event, rawArguments: self.argumentsText,
            ackId: ackID, attachmentCount: self.attachments.count)) ?? []
    }
}
