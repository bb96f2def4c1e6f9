/// The 4-byte key a client XORs over every frame payload it sends (RFC 6455 §5.3).
///
/// Masking exists to stop cache-poisoning attacks on intermediaries, so a client must pick a fresh,
/// unpredictable key per frame: use `random()`.
public struct WebSocketMaskingKey: Sendable, Hashable {
    /// The key bytes in wire order.
    public var b0: UInt8
    /// The key bytes in wire order.
    public var b1: UInt8
    /// The key bytes in wire order.
    public var b2: UInt8
    /// The key bytes in wire order.
    public var b3: UInt8

    /// Creates a key from its four bytes in wire order.
    public init(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, _ b3: UInt8) {
        self.b0 = b0
        self.b1 = b1
        self.b2 = b2
        self.b3 = b3
    }

    /// Creates a key from exactly four bytes, or returns nil for any other count.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 4 else { return nil }
        var iterator = bytes.makeIterator()
        guard let b0 = iterator.next(), let b1 = iterator.next(), let b2 = iterator.next(),
            let b3 = iterator.next()
        else { return nil }
        self.init(b0, b1, b2, b3)
    }

    /// A key from the system's cryptographically secure generator, as RFC 6455 §5.3 requires.
    public static func random() -> WebSocketMaskingKey {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt32
        return WebSocketMaskingKey(
            UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
            UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value))
    }

    /// The key bytes in wire order.
    public var bytes: [UInt8] { [self.b0, self.b1, self.b2, self.b3] }

    /// The key byte applied to payload byte `index` (the key repeats every four bytes).
    @inlinable
    public func byte(at index: Int) -> UInt8 {
        switch index & 3 {
        case 0: return self.b0
        case 1: return self.b1
        case 2: return self.b2
        default: return self.b3
        }
    }

    /// XORs the key over `source` into `destination` (which may be the same memory), as if `source` began
    /// at payload offset `offset`.
    ///
    /// Works eight bytes at a time: masking is on the path of every byte a server receives, and a
    /// byte-at-a-time loop is several times slower for large messages.
    public func apply(
        from source: UnsafeRawBufferPointer, to destination: UnsafeMutableRawBufferPointer, offset: Int = 0
    ) {
        _ = self.xor(from: source, to: destination, offset: offset)
    }

    /// XORs the key over `buffer` in place (payload offset 0) and tells whether every unmasked byte is ASCII:
    /// a text message that is all ASCII is valid UTF-8, so the receiver skips a second pass over it.
    public func applyReportingASCII(to buffer: UnsafeMutableRawBufferPointer) -> Bool {
        self.xor(from: UnsafeRawBufferPointer(buffer), to: buffer, offset: 0) & 0x8080_8080_8080_8080 == 0
    }

    /// The masking loop behind `apply` and `applyReportingASCII`: returns the OR of every unmasked word and
    /// byte written (one more instruction per eight bytes).
    @inline(__always)
    private func xor(from source: UnsafeRawBufferPointer, to destination: UnsafeMutableRawBufferPointer, offset: Int) -> UInt64 {
        let count = min(source.count, destination.count)
        guard count > 0, let src = source.baseAddress, let dst = destination.baseAddress else { return 0 }
        // The key rotated to `offset` and repeated to 8 bytes, in memory order so that a native load XORs each
        // byte with the right key byte: the four bytes are stored in wire order, then rotated as a word.
        var key: UInt32 = 0
        withUnsafeMutableBytes(of: &key) { raw in
            raw[0] = self.b0
            raw[1] = self.b1
            raw[2] = self.b2
            raw[3] = self.b3
        }
        let phase = UInt32(offset & 3) &* 8
        #if _endian(little)
        let rotated = phase == 0 ? key : (key >> phase) | (key << (32 &- phase))
        #else
        let rotated = phase == 0 ? key : (key << phase) | (key >> (32 &- phase))
        #endif
        let pattern = UInt64(rotated) | UInt64(rotated) << 32
        var seen: UInt64 = 0
        var index = 0
        while count - index >= 8 {
            let word = (src + index).loadUnaligned(as: UInt64.self) ^ pattern
            (dst + index).storeBytes(of: word, as: UInt64.self)
            seen |= word
            index += 8
        }
        // Eight is a multiple of four: the tail starts in the pattern's phase, byte for byte.
        withUnsafeBytes(of: pattern) { patternBytes in
            var k = 0
            while index < count {
                let byte = src.load(fromByteOffset: index, as: UInt8.self) ^ patternBytes[k]
                dst.storeBytes(of: byte, toByteOffset: index, as: UInt8.self)
                seen |= UInt64(byte)
                index += 1
                k += 1
            }
        }
        return seen
    }

    /// XORs the key over `buffer` in place, as if `buffer` began at payload offset `offset`.
    public func apply(to buffer: UnsafeMutableRawBufferPointer, offset: Int = 0) {
        self.apply(from: UnsafeRawBufferPointer(buffer), to: buffer, offset: offset)
    }

    /// XORs the key over `bytes[range]` in place, treating `range.lowerBound` as payload offset 0.
    public func apply(to bytes: inout [UInt8], range: Range<Int>) {
        guard !range.isEmpty else { return }
        bytes.withUnsafeMutableBytes { raw in
            self.apply(to: UnsafeMutableRawBufferPointer(rebasing: raw[range]))
        }
    }
}
