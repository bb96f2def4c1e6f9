/// One WebSocket frame with its payload unmasked (RFC 6455 §5.2).
///
/// The masking key is not kept: the decoder removes the mask while copying the payload out of the input
/// buffer, and the encoder takes the key as a separate argument, because a key belongs to one
/// transmission rather than to the frame's content.
public struct WebSocketFrame: Sendable, Hashable {
    /// Whether this is the final fragment of a message (always true for control frames).
    public var fin: Bool
    /// RSV1; with permessage-deflate it marks the first frame of a compressed message.
    public var rsv1: Bool
    /// RSV2; no negotiated extension uses it.
    public var rsv2: Bool
    /// RSV3; no negotiated extension uses it.
    public var rsv3: Bool
    /// The frame's opcode.
    public var opcode: WebSocketOpcode
    /// The unmasked payload ("extension data" and "application data" together).
    public var payload: [UInt8]

    /// Creates a frame.
    public init(
        fin: Bool = true, rsv1: Bool = false, rsv2: Bool = false, rsv3: Bool = false,
        opcode: WebSocketOpcode, payload: [UInt8] = []
    ) {
        self.fin = fin
        self.rsv1 = rsv1
        self.rsv2 = rsv2
        self.rsv3 = rsv3
        self.opcode = opcode
        self.payload = payload
    }
}

/// A parsed frame header (RFC 6455 §5.2), as `WebSocketFrameDecoder.peekHeader(in:)` reports it.
public struct WebSocketFrameHeader: Sendable, Hashable {
    /// Whether this is the final fragment of a message.
    public var fin: Bool
    /// RSV1 (permessage-deflate's "compressed" bit).
    public var rsv1: Bool
    /// RSV2.
    public var rsv2: Bool
    /// RSV3.
    public var rsv3: Bool
    /// The frame's opcode.
    public var opcode: WebSocketOpcode
    /// The masking key, present exactly when the frame is masked.
    public var maskingKey: WebSocketMaskingKey?
    /// The payload length announced by the header.
    public var payloadLength: Int
    /// The size of the header itself (2 to 14 bytes); the payload starts at this offset.
    public var headerLength: Int

    /// Creates a header description.
    public init(
        fin: Bool, rsv1: Bool = false, rsv2: Bool = false, rsv3: Bool = false, opcode: WebSocketOpcode,
        maskingKey: WebSocketMaskingKey?, payloadLength: Int, headerLength: Int
    ) {
        self.fin = fin
        self.rsv1 = rsv1
        self.rsv2 = rsv2
        self.rsv3 = rsv3
        self.opcode = opcode
        self.maskingKey = maskingKey
        self.payloadLength = payloadLength
        self.headerLength = headerLength
    }

    /// The total size of the frame on the wire.
    public var frameLength: Int { self.headerLength + self.payloadLength }
}
