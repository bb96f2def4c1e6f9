/// One Engine.IO packet: a type plus a text or binary payload.
///
/// Text payloads are kept as their raw UTF-8 bytes so that a server can forward or re-encode them without a
/// round trip through `String`. Only `message` packets can carry binary data (the protocol has no way to
/// encode a binary payload for any other type), and the initialisers enforce that, so every value of this
/// type can be encoded.
public struct EnginePacket: Sendable, Hashable {
    /// The data a packet carries.
    public enum Payload: Sendable, Hashable {
        /// UTF-8 text, without the leading type digit. Empty means "no data" (for example a bare `2` ping).
        case text([UInt8])
        /// Raw binary data of a `message` packet.
        case binary([UInt8])

        /// The payload bytes: UTF-8 for text, raw for binary.
        @inlinable
        public var bytes: [UInt8] {
            switch self {
            case .text(let bytes), .binary(let bytes): return bytes
            }
        }

        /// True for a binary payload.
        @inlinable
        public var isBinary: Bool {
            if case .binary = self { return true }
            return false
        }
    }

    /// The packet type.
    public let type: EnginePacketType
    /// The packet data.
    public let payload: Payload

    /// A text packet whose data is the given UTF-8 bytes (not validated here; decoders validate input).
    @inlinable
    public init(type: EnginePacketType, textBytes: [UInt8] = []) {
        self.type = type
        self.payload = .text(textBytes)
    }

    /// A text packet whose data is `text`.
    @inlinable
    public init(type: EnginePacketType, text: String) {
        self.type = type
        self.payload = .text(Array(text.utf8))
    }

    /// A binary `message` packet.
    @inlinable
    public init(binaryMessage bytes: [UInt8]) {
        self.type = .message
        self.payload = .binary(bytes)
    }

    /// True when the payload is binary (always a `message`).
    @inlinable
    public var isBinary: Bool { self.payload.isBinary }

    /// The payload bytes: UTF-8 for text packets, raw for binary ones.
    @inlinable
    public var data: [UInt8] { self.payload.bytes }

    /// The text payload as a `String`, or nil for a binary packet.
    ///
    /// Invalid UTF-8 (possible only for packets built by hand) is repaired with U+FFFD rather than failing.
    public var text: String? {
        guard case .text(let bytes) = self.payload else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A text `message` packet.
    @inlinable
    public static func message(_ text: String) -> EnginePacket { EnginePacket(type: .message, text: text) }

    /// A binary `message` packet.
    @inlinable
    public static func binary(_ bytes: [UInt8]) -> EnginePacket { EnginePacket(binaryMessage: bytes) }

    /// A `ping` packet, optionally carrying data such as `"probe"`.
    @inlinable
    public static func ping(_ text: String = "") -> EnginePacket { EnginePacket(type: .ping, text: text) }

    /// A `pong` packet, optionally carrying data such as `"probe"`.
    @inlinable
    public static func pong(_ text: String = "") -> EnginePacket { EnginePacket(type: .pong, text: text) }

    /// A `close` packet.
    public static let close = EnginePacket(type: .close)

    /// An `upgrade` packet.
    public static let upgrade = EnginePacket(type: .upgrade)

    /// A `noop` packet.
    public static let noop = EnginePacket(type: .noop)
}

extension EnginePacket: CustomStringConvertible {
    /// A debugging rendering such as `message "hello"` or `message <3 bytes>`.
    public var description: String {
        switch self.payload {
        case .text(let bytes):
            return bytes.isEmpty ? "\(self.type)" : "\(self.type) \"\(String(decoding: bytes, as: UTF8.self))\""
        case .binary(let bytes):
            return "\(self.type) <\(bytes.count) bytes>"
        }
    }
}
