import Transport

/// Parses WebSocket frames (RFC 6455 §5.2) from the front of a `ByteBuffer`.
///
/// The decoder is pure: it never does I/O, and it consumes bytes only when a whole frame is available, so
/// the caller can append whatever arrived from the socket and call `next(from:)` until it returns nil.
/// It checks everything that can be judged from a single frame; rules that span frames (fragmentation
/// order, UTF-8, close payloads) belong to `WebSocketMessageAssembler`.
public struct WebSocketFrameDecoder: Sendable {
    /// Which end of the connection this decoder reads for; decides whether frames must be masked.
    public var role: WebSocketRole
    /// The largest payload accepted in one frame. A bigger announced length fails with 1009 as soon as the
    /// header is read, before any of the payload is waited for.
    public var maxPayloadLength: Int
    /// Whether RSV1 may be set, i.e. permessage-deflate was negotiated.
    public var allowsCompression: Bool

    /// Creates a decoder.
    ///
    /// - Parameters:
    ///   - role: `.server` requires masked frames, `.client` requires unmasked ones.
    ///   - maxPayloadLength: the largest frame payload accepted (1009 above it).
    ///   - allowsCompression: true when permessage-deflate was negotiated, allowing RSV1 on the first frame
    ///     of a data message.
    public init(role: WebSocketRole, maxPayloadLength: Int, allowsCompression: Bool = false) {
        self.role = role
        self.maxPayloadLength = max(0, maxPayloadLength)
        self.allowsCompression = allowsCompression
    }

    /// Decodes the next frame from the front of `buffer`.
    ///
    /// - Returns: the frame with its payload unmasked, or nil when `buffer` does not yet hold a whole
    ///   frame; nothing is consumed in that case.
    /// - Throws: the protocol violation, as soon as the bytes read so far prove one. The buffer is left as
    ///   it was; the connection must be failed with the error's `closeCode`.
    public mutating func next(from buffer: inout ByteBuffer) throws(WebSocketProtocolError) -> WebSocketFrame? {
        guard let header = try self.peekHeader(in: buffer) else { return nil }
        let headerLength = header.headerLength
        let length = header.payloadLength
        guard buffer.readableBytes - headerLength >= length else { return nil }

        let payload = buffer.withReadableBytes { raw in
            Self.unmaskedPayload(
                UnsafeRawBufferPointer(rebasing: raw[headerLength..<(headerLength + length)]), key: header.maskingKey)
        }
        buffer.moveReaderIndex(forwardBy: headerLength + length)
        return WebSocketFrame(
            fin: header.fin, rsv1: header.rsv1, rsv2: header.rsv2, rsv3: header.rsv3, opcode: header.opcode,
            payload: payload)
    }

    /// The payload bytes copied out of the read buffer and unmasked.
    ///
    /// A small payload is copied with `Array(_:)` and unmasked in place: `[UInt8](unsafeUninitializedCapacity:)`
    /// allocates through an unspecialized path that looks the array's storage class up in the runtime's
    /// metadata cache on every call, about 400 instructions and several shared cache lines per frame, more
    /// than the second pass over a small payload costs. A large payload is copied and unmasked in one pass.
    private static func unmaskedPayload(_ source: UnsafeRawBufferPointer, key: WebSocketMaskingKey?) -> [UInt8] {
        let length = source.count
        guard length > Self.twoPassPayloadLimit else {
            var payload = [UInt8](source)
            if let key {
                payload.withUnsafeMutableBytes { target in key.apply(from: UnsafeRawBufferPointer(target), to: target) }
            }
            return payload
        }
        return [UInt8](unsafeUninitializedCapacity: length) { destination, initialized in
            let target = UnsafeMutableRawBufferPointer(destination)
            if let key {
                key.apply(from: source, to: target)
            } else {
                target.copyMemory(from: source)
            }
            initialized = length
        }
    }

    private static var twoPassPayloadLimit: Int { 4096 }

    /// Parses and checks the header of the frame at the front of `buffer` without consuming anything.
    ///
    /// Useful to learn how many bytes the frame still needs (`headerLength + payloadLength`), or to look at
    /// a payload that is still arriving (the message assembler uses it to reject invalid UTF-8 before a
    /// large text frame is complete).
    ///
    /// - Returns: the header, or nil when the header itself is not complete yet.
    /// - Throws: the same errors as `next(from:)`, as soon as the available bytes prove them.
    public func peekHeader(in buffer: ByteBuffer) throws(WebSocketProtocolError) -> WebSocketFrameHeader? {
        // One pass over the raw bytes: `peek(at:)` per byte re-checks bounds and the array each time, which
        // cost ~200 instructions per frame on the echo path.
        let result = buffer.withReadableBytes { raw in
            Result { () throws(WebSocketProtocolError) in try self.parseHeader(raw) }
        }
        return try result.get()
    }

    private func parseHeader(_ raw: UnsafeRawBufferPointer) throws(WebSocketProtocolError) -> WebSocketFrameHeader? {
        let available = raw.count
        guard available >= 2 else { return nil }
        let first = raw[0]
        let second = raw[1]
        let fin = first & 0x80 != 0
        let rsv = first & 0x70
        let opcode = WebSocketOpcode(rawValue: first)
        let masked = second & 0x80 != 0
        let shortLength = Int(second & 0x7F)

        // Everything in the first two bytes is checked before waiting for the rest, so a bad frame fails
        // the connection immediately instead of after its (possibly huge) payload arrives.
        try self.checkReservedBits(rsv, opcode: opcode)
        if opcode.isReserved {
            throw .reservedOpcode(opcode.rawValue)
        }
        if opcode.isControl {
            if !fin { throw .fragmentedControlFrame }
            if shortLength > 125 { throw .controlFrameTooLong }
        }
        switch self.role {
        case .server where !masked: throw .unmaskedFrame
        case .client where masked: throw .maskedFrame
        default: break
        }

        var headerLength = 2
        let payloadLength: UInt64
        switch shortLength {
        case 126:
            guard available >= 4 else { return nil }
            payloadLength = UInt64(raw[2]) << 8 | UInt64(raw[3])
            headerLength = 4
        case 127:
            guard available >= 10 else { return nil }
            var value: UInt64 = 0
            for index in 2..<10 {
                value = value << 8 | UInt64(raw[index])
            }
            if value & (1 << 63) != 0 { throw .invalidPayloadLength }
            payloadLength = value
            headerLength = 10
        default:
            // RFC 6455 says the minimal length encoding MUST be used, but rejecting a 126/127 form that
            // carries a small length buys nothing and Autobahn does not require it, so longer forms pass.
            payloadLength = UInt64(shortLength)
        }
        if payloadLength > UInt64(self.maxPayloadLength) {
            throw .messageTooBig(limit: self.maxPayloadLength)
        }

        var maskingKey: WebSocketMaskingKey?
        if masked {
            guard available >= headerLength + 4 else { return nil }
            maskingKey = WebSocketMaskingKey(
                raw[headerLength], raw[headerLength + 1], raw[headerLength + 2], raw[headerLength + 3])
            headerLength += 4
        }
        // The length fits in Int: it is no larger than maxPayloadLength.
        return WebSocketFrameHeader(
            fin: fin, rsv1: rsv & 0x40 != 0, rsv2: rsv & 0x20 != 0, rsv3: rsv & 0x10 != 0, opcode: opcode,
            maskingKey: maskingKey, payloadLength: Int(payloadLength), headerLength: headerLength)
    }

    /// Rejects reserved bits that no negotiated extension gives a meaning.
    private func checkReservedBits(_ rsv: UInt8, opcode: WebSocketOpcode) throws(WebSocketProtocolError) {
        guard rsv != 0 else { return }
        // RSV2 and RSV3 are never negotiated; RSV1 only with permessage-deflate.
        if rsv & 0x30 != 0 || !self.allowsCompression {
            throw .reservedBitsSet(rsv >> 4)
        }
        // RFC 7692 §6.1: RSV1 marks the first frame of a compressed data message only.
        if opcode.isControl || opcode == .continuation {
            throw .compressionBitOnWrongFrame(opcode)
        }
    }
}
