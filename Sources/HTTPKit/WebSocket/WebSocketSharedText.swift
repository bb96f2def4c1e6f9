/// A text message framed once for many WebSocket connections (a broadcast): the server's frame of it,
/// unmasked and uncompressed, which every connection that can send it as is shares by reference.
public struct WebSocketSharedText: Sendable {
    /// The whole frame: header, then payload.
    public let frame: [UInt8]
    /// Where the payload starts in `frame`.
    private let headerLength: Int

    /// Frames an optional one-byte `prefix` (the Engine.IO packet type) followed by `bytes`.
    public init(prefix: UInt8?, _ bytes: [UInt8]) {
        let length = bytes.count + (prefix == nil ? 0 : 1)
        let headerLength = WebSocketFrameEncoder.headerLength(payloadLength: length, masked: false)
        var frame: [UInt8] = []
        frame.reserveCapacity(headerLength + length)
        WebSocketFrameEncoder.headerBytes(opcode: .text, payloadLength: length, into: &frame)
        if let prefix { frame.append(prefix) }
        frame.append(contentsOf: bytes)
        self.frame = frame
        self.headerLength = headerLength
    }

    /// Payload bytes (prefix included).
    public var payloadLength: Int { self.frame.count - self.headerLength }

    /// Calls `body` with the payload (prefix included), for a connection that frames it itself.
    public func withPayload<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try self.frame.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[self.headerLength...])) }
    }
}
