import Transport

/// Why an Engine.IO packet or payload could not be decoded.
///
/// Transports answer any of these the same way (HTTP 400 for polling, closing the socket for WebSocket);
/// the cases exist so that tests and logs can tell the malformed-input classes apart.
public enum EngineProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A packet with no bytes at all (an empty text frame, or an empty record between separators).
    case emptyPacket
    /// The first byte is neither a type digit `0`–`6` nor the binary marker `b`.
    case unknownPacketType(UInt8)
    /// A polling POST body with no bytes.
    case emptyPayload
    /// The base64 text after a `b` marker is malformed.
    case invalidBase64(Base64.DecodingError)
    /// A text packet in a polling body is not valid UTF-8.
    case invalidUTF8

    /// A short explanation for logs.
    public var description: String {
        switch self {
        case .emptyPacket: return "empty packet"
        case .unknownPacketType(let byte): return "unknown packet type byte 0x\(String(byte, radix: 16))"
        case .emptyPayload: return "empty payload"
        case .invalidBase64(let error): return "invalid base64 in binary packet: \(error)"
        case .invalidUTF8: return "text packet is not valid UTF-8"
        }
    }
}
