/// Why a MessagePack input was refused. Offsets count bytes from the start of the input.
public enum MessagePackDecodingError: Error, Sendable, Equatable {
    /// The input ended inside a value.
    case truncated(offset: Int)
    /// A string, bin or ext header at `offset` announces more bytes than remain.
    case lengthBeyondInput(offset: Int, length: Int)
    /// An array or map header at `offset` announces more elements than the limit allows or than the
    /// remaining bytes could hold.
    case countBeyondLimit(offset: Int, count: Int)
    /// Arrays and maps nest deeper than the limit.
    case tooDeep(offset: Int, limit: Int)
    /// The byte at `offset` is not a MessagePack type (0xc1 is reserved).
    case invalidByte(offset: Int, byte: UInt8)
    /// A whole value was read but bytes follow it.
    case trailingBytes(offset: Int)
}

/// Bounds the decoder enforces, so that hostile input costs no more than its own size.
public struct MessagePackLimits: Sendable, Hashable {
    /// Deepest nesting of arrays and maps (the top level is depth 1).
    public var maxDepth: Int
    /// Most elements in one array or entries in one map.
    public var maxCount: Int

    /// Limits; the defaults suit Socket.IO payloads.
    public init(maxDepth: Int = 100, maxCount: Int = 1 << 20) {
        self.maxDepth = maxDepth
        self.maxCount = maxCount
    }
}
