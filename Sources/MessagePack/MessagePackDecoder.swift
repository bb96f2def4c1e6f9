/// Reads MessagePack, refusing truncated input, lengths beyond the input, counts beyond the limits and
/// nesting deeper than allowed, with a typed error and without allocating for what is not there.
///
/// Strings are decoded leniently (invalid UTF-8 becomes U+FFFD, as JavaScript's decoder does).
public enum MessagePackDecoder {
    /// Decodes one value that spans the whole input.
    public static func decode(_ bytes: [UInt8], limits: MessagePackLimits = MessagePackLimits())
        throws(MessagePackDecodingError) -> MessagePackValue {
        try bytes.withUnsafeBufferPointer { (buffer) throws(MessagePackDecodingError) -> MessagePackValue in
            try self.decode(buffer, limits: limits)
        }
    }

    /// Decodes one value that spans the whole buffer.
    public static func decode(_ buffer: UnsafeBufferPointer<UInt8>, limits: MessagePackLimits = MessagePackLimits())
        throws(MessagePackDecodingError) -> MessagePackValue {
        var reader = MessagePackReader(bytes: buffer, limits: limits)
        let value = try reader.readValue(depth: 0)
        if reader.offset != buffer.count { throw .trailingBytes(offset: reader.offset) }
        return value
    }
}

/// The cursor behind `MessagePackDecoder`.
struct MessagePackReader {
    let bytes: UnsafeBufferPointer<UInt8>
    let limits: MessagePackLimits
    var offset = 0

    init(bytes: UnsafeBufferPointer<UInt8>, limits: MessagePackLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    private var remaining: Int { self.bytes.count - self.offset }

    mutating func readValue(depth: Int) throws(MessagePackDecodingError) -> MessagePackValue {
        let start = self.offset
        let byte = try self.readByte()
        switch byte {
        case 0x00...0x7F: return .int(Int64(byte))
        case 0x80...0x8F: return try self.readMap(count: Int(byte & 0x0F), at: start, depth: depth)
        case 0x90...0x9F: return try self.readArray(count: Int(byte & 0x0F), at: start, depth: depth)
        case 0xA0...0xBF: return .string(try self.readString(length: Int(byte & 0x1F), at: start))
        case 0xC0: return .nil
        case 0xC2: return .bool(false)
        case 0xC3: return .bool(true)
        case 0xC4: return .binary(try self.readBytes(length: Int(try self.readUnsigned(1)), at: start))
        case 0xC5: return .binary(try self.readBytes(length: Int(try self.readUnsigned(2)), at: start))
        case 0xC6: return .binary(try self.readBytes(length: Int(try self.readUnsigned(4)), at: start))
        case 0xC7: return try self.readExtension(length: Int(try self.readUnsigned(1)), at: start)
        case 0xC8: return try self.readExtension(length: Int(try self.readUnsigned(2)), at: start)
        case 0xC9: return try self.readExtension(length: Int(try self.readUnsigned(4)), at: start)
        case 0xCA: return .float(Double(Float(bitPattern: UInt32(try self.readUnsigned(4)))))
        case 0xCB: return .float(Double(bitPattern: try self.readUnsigned(8)))
        case 0xCC: return .int(Int64(try self.readUnsigned(1)))
        case 0xCD: return .int(Int64(try self.readUnsigned(2)))
        case 0xCE: return .int(Int64(try self.readUnsigned(4)))
        case 0xCF:
            let value = try self.readUnsigned(8)
            return value <= UInt64(Int64.max) ? .int(Int64(value)) : .uint(value)
        case 0xD0: return .int(Int64(Int8(truncatingIfNeeded: try self.readUnsigned(1))))
        case 0xD1: return .int(Int64(Int16(truncatingIfNeeded: try self.readUnsigned(2))))
        case 0xD2: return .int(Int64(Int32(truncatingIfNeeded: try self.readUnsigned(4))))
        case 0xD3: return .int(Int64(bitPattern: try self.readUnsigned(8)))
        case 0xD4: return try self.readExtension(length: 1, at: start)
        case 0xD5: return try self.readExtension(length: 2, at: start)
        case 0xD6: return try self.readExtension(length: 4, at: start)
        case 0xD7: return try self.readExtension(length: 8, at: start)
        case 0xD8: return try self.readExtension(length: 16, at: start)
        case 0xD9: return .string(try self.readString(length: Int(try self.readUnsigned(1)), at: start))
        case 0xDA: return .string(try self.readString(length: Int(try self.readUnsigned(2)), at: start))
        case 0xDB: return .string(try self.readString(length: Int(try self.readUnsigned(4)), at: start))
        case 0xDC: return try self.readArray(count: Int(try self.readUnsigned(2)), at: start, depth: depth)
        case 0xDD: return try self.readArray(count: Int(try self.readUnsigned(4)), at: start, depth: depth)
        case 0xDE: return try self.readMap(count: Int(try self.readUnsigned(2)), at: start, depth: depth)
        case 0xDF: return try self.readMap(count: Int(try self.readUnsigned(4)), at: start, depth: depth)
        case 0xE0...0xFF: return .int(Int64(Int8(bitPattern: byte)))
        default: throw .invalidByte(offset: start, byte: byte)
        }
    }

    private mutating func readByte() throws(MessagePackDecodingError) -> UInt8 {
        guard self.offset < self.bytes.count else { throw .truncated(offset: self.offset) }
        defer { self.offset += 1 }
        return self.bytes[self.offset]
    }

    /// A big-endian unsigned integer of `width` bytes.
    private mutating func readUnsigned(_ width: Int) throws(MessagePackDecodingError) -> UInt64 {
        guard self.remaining >= width else { throw .truncated(offset: self.bytes.count) }
        var value: UInt64 = 0
        for index in self.offset..<(self.offset + width) { value = value << 8 | UInt64(self.bytes[index]) }
        self.offset += width
        return value
    }

    private mutating func readBytes(length: Int, at start: Int) throws(MessagePackDecodingError) -> [UInt8] {
        guard length <= self.remaining else { throw .lengthBeyondInput(offset: start, length: length) }
        defer { self.offset += length }
        return Array(UnsafeBufferPointer(rebasing: self.bytes[self.offset..<(self.offset + length)]))
    }

    private mutating func readString(length: Int, at start: Int) throws(MessagePackDecodingError) -> String {
        guard length <= self.remaining else { throw .lengthBeyondInput(offset: start, length: length) }
        defer { self.offset += length }
        return String(decoding: UnsafeBufferPointer(rebasing: self.bytes[self.offset..<(self.offset + length)]),
                      as: UTF8.self)
    }

    private mutating func readExtension(length: Int, at start: Int) throws(MessagePackDecodingError) -> MessagePackValue {
        let type = Int8(bitPattern: try self.readByte())
        return .ext(type: type, data: try self.readBytes(length: length, at: start))
    }

    /// Checks a collection header before anything is allocated for it.
    private func checkCollection(count: Int, bytesPerElement: Int, at start: Int, depth: Int)
        throws(MessagePackDecodingError) {
        if depth + 1 > self.limits.maxDepth { throw .tooDeep(offset: start, limit: self.limits.maxDepth) }
        if count > self.limits.maxCount || count > self.remaining / bytesPerElement {
            throw .countBeyondLimit(offset: start, count: count)
        }
    }

    private mutating func readArray(count: Int, at start: Int, depth: Int) throws(MessagePackDecodingError) -> MessagePackValue {
        try self.checkCollection(count: count, bytesPerElement: 1, at: start, depth: depth)
        var elements: [MessagePackValue] = []
        elements.reserveCapacity(count)
        for _ in 0..<count { elements.append(try self.readValue(depth: depth + 1)) }
        return .array(elements)
    }

    private mutating func readMap(count: Int, at start: Int, depth: Int) throws(MessagePackDecodingError) -> MessagePackValue {
        try self.checkCollection(count: count, bytesPerElement: 2, at: start, depth: depth)
        var entries: [MessagePackPair] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let key = try self.readValue(depth: depth + 1)
            let value = try self.readValue(depth: depth + 1)
            entries.append(MessagePackPair(key, value))
        }
        return .map(entries)
    }
}
