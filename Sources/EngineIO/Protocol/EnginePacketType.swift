/// The seven Engine.IO v4 packet types.
///
/// On the wire a packet type is the single ASCII digit that starts a text-encoded packet, so the raw value is
/// the digit's numeric value and `asciiDigit` is the byte actually written.
public enum EnginePacketType: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Sent by the server with the handshake JSON when a session opens.
    case open = 0
    /// Requests that the transport be closed.
    case close = 1
    /// Heartbeat request (server → client in v4) and the upgrade probe (`2probe`).
    case ping = 2
    /// Heartbeat answer and the upgrade probe answer (`3probe`).
    case pong = 3
    /// Application data, text or binary.
    case message = 4
    /// Completes a transport upgrade.
    case upgrade = 5
    /// Flushes a pending long-polling GET during an upgrade.
    case noop = 6

    /// The type whose wire digit is `byte` (`'0'`…`'6'`), or nil for any other byte.
    @inlinable
    public init?(asciiDigit byte: UInt8) {
        // One subtraction and compare instead of a switch: this runs once per decoded packet.
        let value = byte &- UInt8(ascii: "0")
        guard value <= EnginePacketType.noop.rawValue else { return nil }
        self.init(rawValue: value)
    }

    /// The ASCII digit that encodes this type on the wire.
    @inlinable
    public var asciiDigit: UInt8 { UInt8(ascii: "0") &+ self.rawValue }

    /// The lower-case name used by the reference implementations (`"open"`, `"message"`, …).
    public var description: String {
        switch self {
        case .open: return "open"
        case .close: return "close"
        case .ping: return "ping"
        case .pong: return "pong"
        case .message: return "message"
        case .upgrade: return "upgrade"
        case .noop: return "noop"
        }
    }
}
