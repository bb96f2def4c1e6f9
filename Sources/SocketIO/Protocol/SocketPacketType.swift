/// Socket.IO v5 packet types; the raw value is the digit that starts the encoded packet.
public enum SocketPacketType: UInt8, Sendable, Hashable, CaseIterable {
    /// Namespace connection request (client) or approval with `{"sid":…}` (server).
    case connect = 0
    /// Leaving a namespace; carries no data.
    case disconnect = 1
    /// An event: data is `[name, args…]`.
    case event = 2
    /// Acknowledgement of an event: data is the argument array.
    case ack = 3
    /// Namespace connection refused: data is `{"message":…}` (or a string in older peers).
    case connectError = 4
    /// An event whose data references binary attachments.
    case binaryEvent = 5
    /// An acknowledgement whose data references binary attachments.
    case binaryAck = 6

    /// Whether the wire form carries an attachment count (`5`/`6`).
    public var isBinary: Bool {
        self == .binaryEvent || self == .binaryAck
    }

    /// The type without the binary distinction (`binaryEvent` → `event`, `binaryAck` → `ack`).
    public var plain: SocketPacketType {
        switch self {
        case .binaryEvent: return .event
        case .binaryAck: return .ack
        default: return self
        }
    }
}
