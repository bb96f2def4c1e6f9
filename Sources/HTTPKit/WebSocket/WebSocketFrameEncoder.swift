import Transport

/// Serialises WebSocket frames (RFC 6455 §5.2), appending to a caller-owned byte array.
///
/// Appending to the caller's array (typically a connection's outbound buffer) avoids building each frame
/// in a temporary array first. `headerBytes` writes only the header, for callers that hand the payload to
/// the socket separately (vectored or zero-copy writes).
///
/// The encoder trusts its caller: control frames must carry at most 125 bytes and must not be fragmented
/// (checked only by debug assertions), and a client must pass a fresh `WebSocketMaskingKey.random()` per
/// frame.
public enum WebSocketFrameEncoder {
    /// The size of the header for a payload of `payloadLength` bytes: 2, 4 or 10 bytes, plus 4 when masked.
    public static func headerLength(payloadLength: Int, masked: Bool) -> Int {
        let lengthBytes: Int
        if payloadLength <= 125 {
            lengthBytes = 0
        } else if payloadLength <= 0xFFFF {
            lengthBytes = 2
        } else {
            lengthBytes = 8
        }
        return 2 + lengthBytes + (masked ? 4 : 0)
    }

    /// Appends a frame header (using the minimal length encoding) to `output`.
    ///
    /// - Parameters:
    ///   - opcode: the frame's opcode.
    ///   - payloadLength: the number of payload bytes that will follow.
    ///   - fin: false for every fragment of a message but the last.
    ///   - rsv1: true on the first frame of a permessage-deflate compressed message.
    ///   - maskingKey: the key the payload is (or will be) masked with; required for clients, nil for servers.
    ///   - output: the array the header is appended to.
    public static func headerBytes(
        opcode: WebSocketOpcode, payloadLength: Int, fin: Bool = true, rsv1: Bool = false,
        maskingKey: WebSocketMaskingKey? = nil, into output: inout [UInt8]
    ) {
        assert(payloadLength >= 0, "negative payload length")
        assert(!opcode.isControl || (fin && payloadLength <= 125), "control frames: FIN set and <= 125 bytes")
        let first = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode.rawValue
        let maskBit: UInt8 = maskingKey == nil ? 0 : 0x80
        output.append(first)
        if payloadLength <= 125 {
            output.append(maskBit | UInt8(payloadLength))
        } else if payloadLength <= 0xFFFF {
            output.append(maskBit | 126)
            output.append(UInt8(truncatingIfNeeded: payloadLength >> 8))
            output.append(UInt8(truncatingIfNeeded: payloadLength))
        } else {
            output.append(maskBit | 127)
            let length = UInt64(payloadLength)
            for shift in stride(from: 56, through: 0, by: -8) {
                output.append(UInt8(truncatingIfNeeded: length >> UInt64(shift)))
            }
        }
        if let key = maskingKey {
            output.append(key.b0)
            output.append(key.b1)
            output.append(key.b2)
            output.append(key.b3)
        }
    }

    /// Writes the header of an unmasked final frame (a server's, without extensions) to `writer`, in the
    /// same minimal length encoding as `headerBytes`.
    @inlinable
    public static func writeHeader(opcode: WebSocketOpcode, payloadLength: Int, into writer: inout RawByteWriter) {
        assert(payloadLength >= 0, "negative payload length")
        writer.put(0x80 | opcode.rawValue)
        if payloadLength <= 125 {
            writer.put(UInt8(truncatingIfNeeded: payloadLength))
        } else if payloadLength <= 0xFFFF {
            writer.put(126)
            writer.put(UInt8(truncatingIfNeeded: payloadLength >> 8))
            writer.put(UInt8(truncatingIfNeeded: payloadLength))
        } else {
            writer.put(127)
            let length = UInt64(payloadLength)
            for shift in stride(from: 56, through: 0, by: -8) {
                writer.put(UInt8(truncatingIfNeeded: length >> UInt64(shift)))
            }
        }
    }

    /// Appends a whole frame — header, then the payload, masked when `maskingKey` is given — to `output`.
    public static func encode(
        opcode: WebSocketOpcode, payload: some Collection<UInt8>, fin: Bool = true, rsv1: Bool = false,
        maskingKey: WebSocketMaskingKey? = nil, into output: inout [UInt8]
    ) {
        let length = payload.count
        Self.reserve(
            Self.headerLength(payloadLength: length, masked: maskingKey != nil) + length, in: &output)
        Self.headerBytes(
            opcode: opcode, payloadLength: length, fin: fin, rsv1: rsv1, maskingKey: maskingKey, into: &output)
        let start = output.count
        output.append(contentsOf: payload)
        // Mask in place after appending, so no masked copy of the payload is ever made.
        if let key = maskingKey {
            key.apply(to: &output, range: start..<output.count)
        }
    }

    /// Appends a whole frame whose payload is in raw memory (e.g. a slice of a larger buffer) to `output`.
    public static func encode(
        opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer, fin: Bool = true, rsv1: Bool = false,
        maskingKey: WebSocketMaskingKey? = nil, into output: inout [UInt8]
    ) {
        let length = payload.count
        Self.reserve(
            Self.headerLength(payloadLength: length, masked: maskingKey != nil) + length, in: &output)
        Self.headerBytes(
            opcode: opcode, payloadLength: length, fin: fin, rsv1: rsv1, maskingKey: maskingKey, into: &output)
        let start = output.count
        output.append(contentsOf: payload)
        if let key = maskingKey {
            key.apply(to: &output, range: start..<output.count)
        }
    }

    /// Appends `frame` (RSV2/RSV3 included as given) to `output`.
    public static func encode(
        _ frame: WebSocketFrame, maskingKey: WebSocketMaskingKey? = nil, into output: inout [UInt8]
    ) {
        let start = output.count
        Self.encode(
            opcode: frame.opcode, payload: frame.payload, fin: frame.fin, rsv1: frame.rsv1,
            maskingKey: maskingKey, into: &output)
        // Extensions other than permessage-deflate are not negotiated, but a test or proxy may still need
        // to produce such frames verbatim.
        if frame.rsv2 { output[start] |= 0x20 }
        if frame.rsv3 { output[start] |= 0x10 }
    }

    /// The payload of a close frame: the code in network byte order, then the reason's UTF-8, cut at a
    /// character boundary so the whole payload fits the 125-byte control frame limit.
    ///
    /// A nil `code` gives an empty payload (a reason cannot be sent without a code).
    public static func closePayload(code: UInt16?, reason: String = "") -> [UInt8] {
        guard let code else { return [] }
        var payload: [UInt8] = [UInt8(truncatingIfNeeded: code >> 8), UInt8(truncatingIfNeeded: code)]
        var used = 0
        for scalar in reason.unicodeScalars {
            let width = scalar.utf8.count
            if used + width > 123 { break }
            payload.append(contentsOf: scalar.utf8)
            used += width
        }
        return payload
    }

    /// Grows `output` ahead of an append, geometrically so repeated small frames stay amortised O(1).
    private static func reserve(_ extra: Int, in output: inout [UInt8]) {
        let needed = output.count + extra
        if needed > output.capacity {
            output.reserveCapacity(max(needed, output.capacity * 2))
        }
    }
}
