import Transport

/// Converts between Engine.IO packets and WebSocket message payloads (protocol v4).
///
/// Over WebSocket every packet is one message: a text message is the type digit followed by the text
/// (`4hello`, `2probe`), and a binary message is a `message` packet's raw bytes with no prefix. The codec
/// does not validate UTF-8 of text messages, because the WebSocket layer must already have done so
/// (RFC 6455 §8.1) and doing it twice would cost a pass over every message.
public enum EnginePacketCodec {
    /// The kind of WebSocket message a packet travels in.
    public enum FrameKind: Sendable, Hashable {
        /// A text (opcode 1) message.
        case text
        /// A binary (opcode 2) message.
        case binary
    }

    /// A complete WebSocket message payload together with its kind.
    public enum Frame: Sendable, Hashable {
        /// A text message payload (UTF-8 bytes).
        case text([UInt8])
        /// A binary message payload.
        case binary([UInt8])
    }

    /// The byte that marks a base64-encoded binary packet in text form (`b` + base64).
    public static let binaryMarker = UInt8(ascii: "b")

    // MARK: - Decoding

    /// Decodes the payload of a text message.
    ///
    /// Besides `<digit><text>`, this accepts `b<base64>` as a binary message: v4 clients send binary as
    /// binary messages, but Node's client with `forceBase64` sends the polling encoding over WebSocket too,
    /// and Node's server accepts it. Taking the array as `consuming` lets a caller that hands over its only
    /// reference strip the type digit in place instead of copying the text.
    public static func decode(text frame: consuming [UInt8]) throws(EngineProtocolError) -> EnginePacket {
        guard let first = frame.first else { throw .emptyPacket }
        if first == binaryMarker {
            let result = frame.withUnsafeBufferPointer { decodeEncodedPacket($0) }
            return try result.get()
        }
        guard let type = EnginePacketType(asciiDigit: first) else { throw .unknownPacketType(first) }
        frame.removeFirst()
        return EnginePacket(type: type, textBytes: frame)
    }

    /// Decodes the payload of a text message held in any byte collection (for example an `ArraySlice`).
    public static func decode(text frame: some Collection<UInt8>) throws(EngineProtocolError) -> EnginePacket {
        let contiguous = frame.withContiguousStorageIfAvailable { decodeEncodedPacket($0) }
        if let contiguous { return try contiguous.get() }
        return try Array(frame).withUnsafeBufferPointer { decodeEncodedPacket($0) }.get()
    }

    /// Decodes the payload of a binary message: always a binary `message` packet, whatever its bytes.
    @inlinable
    public static func decode(binary frame: [UInt8]) -> EnginePacket {
        EnginePacket(binaryMessage: frame)
    }

    /// Decodes a WebSocket message of either kind.
    public static func decode(_ frame: Frame) throws(EngineProtocolError) -> EnginePacket {
        switch frame {
        case .text(let bytes): return try decode(text: bytes)
        case .binary(let bytes): return decode(binary: bytes)
        }
    }

    /// Decodes one text-encoded packet (`<digit><text>` or `b<base64>`), the form shared by WebSocket text
    /// messages and the records of a polling payload. The result is returned rather than thrown so callers
    /// can run it inside the untyped-rethrows `withUnsafeBufferPointer` family and keep typed errors.
    static func decodeEncodedPacket(_ encoded: UnsafeBufferPointer<UInt8>) -> Result<EnginePacket, EngineProtocolError> {
        guard let first = encoded.first else { return .failure(.emptyPacket) }
        let rest = UnsafeBufferPointer(rebasing: encoded.dropFirst())
        if first == binaryMarker {
            do {
                return .success(EnginePacket(binaryMessage: try Base64.decode(rest)))
            } catch {
                return .failure(.invalidBase64(error))
            }
        }
        guard let type = EnginePacketType(asciiDigit: first) else { return .failure(.unknownPacketType(first)) }
        return .success(EnginePacket(type: type, textBytes: Array(rest)))
    }

    // MARK: - Encoding

    /// The WebSocket message kind `packet` is sent as.
    @inlinable
    public static func frameKind(of packet: EnginePacket) -> FrameKind {
        packet.isBinary ? .binary : .text
    }

    /// The exact WebSocket payload length of `packet`, so a frame header can be written before the payload.
    @inlinable
    public static func encodedLength(of packet: EnginePacket) -> Int {
        switch packet.payload {
        case .text(let bytes): return 1 + bytes.count
        case .binary(let bytes): return bytes.count
        }
    }

    /// Appends `packet`'s WebSocket payload to `buffer` (no intermediate array) and returns its kind.
    @discardableResult
    public static func write(_ packet: EnginePacket, into buffer: inout ByteBuffer) -> FrameKind {
        switch packet.payload {
        case .text(let bytes):
            buffer.append(packet.type.asciiDigit)
            buffer.append(contentsOf: bytes)
            return .text
        case .binary(let bytes):
            buffer.append(contentsOf: bytes)
            return .binary
        }
    }

    /// Appends `packet`'s WebSocket payload to `array` and returns its kind.
    @discardableResult
    public static func write(_ packet: EnginePacket, into array: inout [UInt8]) -> FrameKind {
        switch packet.payload {
        case .text(let bytes):
            array.reserveCapacity(array.count + 1 + bytes.count)
            array.append(packet.type.asciiDigit)
            array.append(contentsOf: bytes)
            return .text
        case .binary(let bytes):
            array.append(contentsOf: bytes)
            return .binary
        }
    }

    /// Encodes `packet` as a complete WebSocket message payload.
    public static func encode(_ packet: EnginePacket) -> Frame {
        switch packet.payload {
        case .text(let bytes):
            let encoded = [UInt8](unsafeUninitializedCapacity: bytes.count + 1) { buffer, count in
                buffer[0] = packet.type.asciiDigit
                _ = UnsafeMutableBufferPointer(rebasing: buffer[1...]).initialize(from: bytes)
                count = bytes.count + 1
            }
            return .text(encoded)
        case .binary(let bytes):
            // Binary messages carry the bytes unchanged, so the array is shared, not copied.
            return .binary(bytes)
        }
    }
}
