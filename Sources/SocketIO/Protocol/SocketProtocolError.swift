/// Why a Socket.IO packet could not be encoded or decoded.
///
/// On any decode error the peer is misbehaving; the reference server closes
/// the underlying connection, and the decoder drops any half-built packet.
public enum SocketProtocolError: Error, Sendable, Hashable {
    /// A text packet with no bytes (there is not even a type digit).
    case emptyPacket
    /// The first byte is not a type digit 0–6 (the offending byte is given).
    case invalidPacketType(UInt8)
    /// A binary packet whose attachment count is missing, not a positive integer,
    /// or not followed by `-` (e.g. `5`, `51`, `50-`, `5a-`).
    case invalidAttachmentCount
    /// More attachments announced than the decoder accepts.
    case tooManyAttachments(count: Int, limit: Int)
    /// A namespace that does not start with `/`, or contains `,` (which ends it on the wire).
    case invalidNamespace(String)
    /// An acknowledgement id that is negative or does not fit in an `Int`.
    case invalidAckId
    /// The payload after the header is not valid JSON.
    case invalidJSON(JSONParseError)
    /// The payload's shape does not suit the packet type (e.g. EVENT data not a
    /// non-empty array starting with a string or number, DISCONNECT with data).
    case invalidPayload(SocketPacketType)
    /// An EVENT named like a reserved event (`connect`, `disconnect`, …) that
    /// only the library itself may emit.
    case reservedEventName(String)
    /// A `{"_placeholder":true,…}` object whose `num` is missing, not an
    /// integer, or not below the announced attachment count.
    case invalidPlaceholder
    /// A binary frame arrived while no binary packet was waiting for attachments.
    case unexpectedBinaryAttachment
    /// A text packet arrived while attachments of the previous packet were still due.
    case unexpectedTextPacket
    /// Binary values in a packet type that cannot carry attachments
    /// (only EVENT and ACK can).
    case binaryNotAllowed(SocketPacketType)
}
