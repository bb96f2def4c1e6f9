/// A WebSocket frame opcode (RFC 6455 §5.2): the low four bits of a frame's first byte.
///
/// A struct rather than an enum because the wire can carry any of the 16 values and the decoder has to be
/// able to name the reserved ones while rejecting them.
public struct WebSocketOpcode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The 4-bit opcode value (0...15).
    public let rawValue: UInt8

    /// Wraps an opcode value; only the low four bits are kept because the field is four bits wide.
    public init(rawValue: UInt8) {
        self.rawValue = rawValue & 0x0F
    }

    /// Continues a fragmented message (0x0).
    public static let continuation = WebSocketOpcode(rawValue: 0x0)
    /// A UTF-8 text message, or the first fragment of one (0x1).
    public static let text = WebSocketOpcode(rawValue: 0x1)
    /// A binary message, or the first fragment of one (0x2).
    public static let binary = WebSocketOpcode(rawValue: 0x2)
    /// Connection close (0x8).
    public static let close = WebSocketOpcode(rawValue: 0x8)
    /// Ping (0x9); the peer must answer with a pong carrying the same payload.
    public static let ping = WebSocketOpcode(rawValue: 0x9)
    /// Pong (0xA).
    public static let pong = WebSocketOpcode(rawValue: 0xA)

    /// Control opcodes have the high bit of the nibble set (0x8...0xF); they may not be fragmented and
    /// carry at most 125 payload bytes.
    public var isControl: Bool { self.rawValue & 0x08 != 0 }

    /// True for the opcodes RFC 6455 reserves for future use (0x3...0x7 and 0xB...0xF); receiving one
    /// fails the connection because no extension defines them.
    public var isReserved: Bool {
        switch self.rawValue {
        case 0x0, 0x1, 0x2, 0x8, 0x9, 0xA: return false
        default: return true
        }
    }

    /// True for the opcodes that start a data message (text or binary).
    public var isDataStart: Bool { self == .text || self == .binary }

    /// A readable name, for logs and test failures.
    public var description: String {
        switch self.rawValue {
        case 0x0: return "continuation"
        case 0x1: return "text"
        case 0x2: return "binary"
        case 0x8: return "close"
        case 0x9: return "ping"
        case 0xA: return "pong"
        default: return "reserved(0x\(String(self.rawValue, radix: 16)))"
        }
    }
}
