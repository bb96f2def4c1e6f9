/// Why an incoming WebSocket byte stream was rejected, and which close code to fail the connection with.
///
/// Every case maps to the status code RFC 6455 §7.4.1 prescribes for it (`closeCode`): the caller sends a
/// close frame with that code (or just drops the TCP connection) and stops reading.
public enum WebSocketProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// RSV2/RSV3 set, or RSV1 set while no extension defining it was negotiated. (1002)
    case reservedBitsSet(UInt8)
    /// RSV1 set on a control frame or a continuation frame, which permessage-deflate forbids. (1002)
    case compressionBitOnWrongFrame(WebSocketOpcode)
    /// An opcode RFC 6455 reserves (0x3-0x7, 0xB-0xF). (1002)
    case reservedOpcode(UInt8)
    /// A control frame without FIN: control frames may not be fragmented. (1002)
    case fragmentedControlFrame
    /// A control frame announcing more than 125 payload bytes. (1002)
    case controlFrameTooLong
    /// A server received an unmasked frame; clients must mask every frame. (1002)
    case unmaskedFrame
    /// A client received a masked frame; servers must not mask. (1002)
    case maskedFrame
    /// A 64-bit payload length with its most significant bit set. (1002)
    case invalidPayloadLength
    /// A frame or message (after decompression, across fragments) larger than the configured limit. (1009)
    case messageTooBig(limit: Int)
    /// A continuation frame arrived while no fragmented message was in progress. (1002)
    case unexpectedContinuation
    /// A new text/binary frame arrived while a fragmented message was still in progress. (1002)
    case expectedContinuation
    /// A text message (or a fragment of one) is not valid UTF-8. (1007)
    case invalidUTF8
    /// A close frame with a 1-byte payload: a payload must be empty or start with a 2-byte code. (1002)
    case invalidClosePayloadLength
    /// A close frame carrying a code that may not be sent on the wire. (1002)
    case invalidCloseCode(UInt16)
    /// A close frame whose reason is not valid UTF-8. (1007)
    case invalidCloseReason
    /// A permessage-deflate payload that does not inflate. (1007: the data is inconsistent with its type)
    case invalidCompressedData
    /// zlib failed for a reason unrelated to the input (out of memory). (1011)
    case compressionFailure

    /// The close status code to send when failing the connection for this error.
    public var closeCode: UInt16 {
        switch self {
        case .messageTooBig:
            return WebSocketCloseCode.messageTooBig
        case .invalidUTF8, .invalidCloseReason, .invalidCompressedData:
            return WebSocketCloseCode.invalidPayloadData
        case .compressionFailure:
            return WebSocketCloseCode.internalError
        case .reservedBitsSet, .compressionBitOnWrongFrame, .reservedOpcode, .fragmentedControlFrame,
            .controlFrameTooLong, .unmaskedFrame, .maskedFrame, .invalidPayloadLength,
            .unexpectedContinuation, .expectedContinuation, .invalidClosePayloadLength, .invalidCloseCode:
            return WebSocketCloseCode.protocolError
        }
    }

    /// A short explanation, usable as the close reason (always well under the 123-byte limit).
    public var description: String {
        switch self {
        case .reservedBitsSet(let bits): return "reserved bits set (0x\(String(bits, radix: 16)))"
        case .compressionBitOnWrongFrame(let opcode): return "RSV1 set on a \(opcode) frame"
        case .reservedOpcode(let opcode): return "reserved opcode 0x\(String(opcode, radix: 16))"
        case .fragmentedControlFrame: return "fragmented control frame"
        case .controlFrameTooLong: return "control frame payload over 125 bytes"
        case .unmaskedFrame: return "unmasked frame from client"
        case .maskedFrame: return "masked frame from server"
        case .invalidPayloadLength: return "payload length with the most significant bit set"
        case .messageTooBig(let limit): return "message larger than \(limit) bytes"
        case .unexpectedContinuation: return "continuation frame without a message to continue"
        case .expectedContinuation: return "new message started before the fragmented one finished"
        case .invalidUTF8: return "invalid UTF-8 in text message"
        case .invalidClosePayloadLength: return "close frame payload of 1 byte"
        case .invalidCloseCode(let code): return "invalid close code \(code)"
        case .invalidCloseReason: return "invalid UTF-8 in close reason"
        case .invalidCompressedData: return "invalid permessage-deflate data"
        case .compressionFailure: return "compression failure"
        }
    }
}
