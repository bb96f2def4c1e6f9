/// SHA-1 (FIPS 180-4), implemented here because the WebSocket opening handshake needs it and the project
/// takes no package dependencies.
///
/// SHA-1 is broken for collision resistance; RFC 6455 uses it only to prove that the server understood the
/// handshake, not for security, so that weakness does not matter here. Do not use this type for anything
/// that needs a secure hash.
public struct SHA1: Sendable {
    /// The running hash state H0...H4.
    private var h0: UInt32 = 0x6745_2301
    private var h1: UInt32 = 0xEFCD_AB89
    private var h2: UInt32 = 0x98BA_DCFE
    private var h3: UInt32 = 0x1032_5476
    private var h4: UInt32 = 0xC3D2_E1F0

    /// Bytes of an incomplete 64-byte block carried between `update` calls.
    private var pending: [UInt8] = []
    /// Total message length in bytes, needed for the final padding.
    private var totalLength: UInt64 = 0

    /// The size of a digest in bytes.
    public static let digestSize = 20

    /// Creates a hasher in the FIPS 180-4 initial state.
    public init() {
        self.init(reservingPending: true)
    }

    /// Hashes `bytes` in one call.
    public static func hash(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var hasher = SHA1()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// Hashes the UTF-8 encoding of `string`.
    public static func hash(_ string: String) -> [UInt8] {
        Self.hash(Array(string.utf8))
    }

    /// Hashes `bytes` in one call with nothing allocated but the digest.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.digestSize) { buffer, count in
            Self.hash(bytes, into: UnsafeMutableRawBufferPointer(buffer))
            count = Self.digestSize
        }
    }

    /// Hashes `bytes` into the first 20 bytes of `digest`, allocating nothing: the padded last block(s) are
    /// built on the stack (every WebSocket handshake hashes its 60-byte key and GUID this way).
    static func hash(_ bytes: UnsafeRawBufferPointer, into digest: UnsafeMutableRawBufferPointer) {
        var hasher = SHA1(reservingPending: false)
        let whole = bytes.count / 64 * 64
        var offset = 0
        while offset < whole {
            hasher.compress(block: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + 64)]))
            offset += 64
        }
        let rest = bytes.count - whole
        let bitLength = UInt64(bytes.count) &* 8
        withUnsafeTemporaryAllocation(byteCount: 128, alignment: 8) { tail in
            tail.initializeMemory(as: UInt8.self, repeating: 0)
            if rest > 0 { tail.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[whole...])) }
            tail[rest] = 0x80
            let length = rest < 56 ? 64 : 128
            for index in 0..<8 { tail[length - 1 - index] = UInt8(truncatingIfNeeded: bitLength >> UInt64(index * 8)) }
            hasher.compress(block: UnsafeRawBufferPointer(rebasing: tail[0..<64]))
            guard length == 128 else { return }
            if bitLength == Self.acceptInputBitLength {
                // The WebSocket accept value hashes 60 bytes: its second block is padding only, the same
                // every time, so its message schedule is computed once (about 500 instructions a handshake).
                Self.acceptPaddingSchedule.withUnsafeBufferPointer { hasher.compress(schedule: $0) }
            } else {
                hasher.compress(block: UnsafeRawBufferPointer(rebasing: tail[64..<128]))
            }
        }
        hasher.store(into: digest)
    }

    private init(reservingPending: Bool) {
        if reservingPending { self.pending.reserveCapacity(64) }
    }

    /// Feeds more message bytes.
    public mutating func update(_ bytes: some Sequence<UInt8>) {
        // Contiguous input is processed block by block without staging through `pending`.
        let handled: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            self.update(UnsafeRawBufferPointer(buffer))
        }
        if handled == nil {
            let array = Array(bytes)
            array.withUnsafeBytes { self.update($0) }
        }
    }

    /// Feeds more message bytes from raw memory.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        self.totalLength &+= UInt64(bytes.count)
        var offset = 0
        // Complete a block left over from an earlier call first.
        if !self.pending.isEmpty {
            let take = min(64 - self.pending.count, bytes.count)
            self.pending.append(contentsOf: bytes[0..<take])
            offset = take
            if self.pending.count == 64 {
                let block = self.pending
                block.withUnsafeBytes { self.compress(block: $0) }
                self.pending.removeAll(keepingCapacity: true)
            }
        }
        while bytes.count - offset >= 64 {
            self.compress(block: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + 64)]))
            offset += 64
        }
        if offset < bytes.count {
            self.pending.append(contentsOf: bytes[offset...])
        }
    }

    /// Pads the message, processes the last block(s) and returns the 20-byte digest.
    ///
    /// The hasher is consumed: call this once.
    public mutating func finalize() -> [UInt8] {
        let bitLength = self.totalLength &* 8
        // Padding: a single 1 bit, zeros up to 56 mod 64, then the 64-bit big-endian bit length.
        var tail = self.pending
        tail.append(0x80)
        while tail.count % 64 != 56 {
            tail.append(0)
        }
        for shift in stride(from: 56, through: 0, by: -8) {
            tail.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }
        tail.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                self.compress(block: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + 64)]))
                offset += 64
            }
        }
        self.pending.removeAll()
        return self.digest()
    }

    /// The state H0...H4 as the 20-byte big-endian digest.
    private func digest() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.digestSize) { buffer, count in
            self.store(into: UnsafeMutableRawBufferPointer(buffer))
            count = Self.digestSize
        }
    }

    /// Writes the state H0...H4, big-endian, into the first 20 bytes of `digest`.
    private func store(into digest: UnsafeMutableRawBufferPointer) {
        precondition(digest.count >= Self.digestSize, "SHA-1 digest buffer too small")
        digest.storeBytes(of: self.h0.bigEndian, toByteOffset: 0, as: UInt32.self)
        digest.storeBytes(of: self.h1.bigEndian, toByteOffset: 4, as: UInt32.self)
        digest.storeBytes(of: self.h2.bigEndian, toByteOffset: 8, as: UInt32.self)
        digest.storeBytes(of: self.h3.bigEndian, toByteOffset: 12, as: UInt32.self)
        digest.storeBytes(of: self.h4.bigEndian, toByteOffset: 16, as: UInt32.self)
    }

    /// The bit length of the accept value's input: a 24-character key and the 36-character GUID.
    private static let acceptInputBitLength: UInt64 = 60 * 8

    /// The message schedule of the padding-only block that ends a 60-byte message.
    private static let acceptPaddingSchedule: [UInt32] = {
        var block = [UInt8](repeating: 0, count: 64)
        for index in 0..<8 { block[63 - index] = UInt8(truncatingIfNeeded: acceptInputBitLength >> UInt64(index * 8)) }
        return block.withUnsafeBytes { Self.schedule(of: $0) }
    }()

    /// The 80-word message schedule of one 64-byte block.
    private static func schedule(of block: UnsafeRawBufferPointer) -> [UInt32] {
        [UInt32](unsafeUninitializedCapacity: 80) { w, count in
            Self.expand(block, into: w)
            count = 80
        }
    }

    /// Writes the 80-word message schedule of `block` into `w`.
    @inline(__always)
    private static func expand(_ block: UnsafeRawBufferPointer, into w: UnsafeMutableBufferPointer<UInt32>) {
        for t in 0..<16 {
            // Words are big-endian; an unaligned load works wherever the block sits.
            w[t] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: t * 4, as: UInt32.self))
        }
        for t in 16..<80 {
            w[t] = Self.rotateLeft(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], by: 1)
        }
    }

    /// Processes one 64-byte block (FIPS 180-4 §6.1.2).
    private mutating func compress(block: UnsafeRawBufferPointer) {
        // The 80-word message schedule is a temporary (stack) allocation, so hashing allocates nothing per
        // block.
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 80) { w in
            Self.expand(block, into: w)
            self.compress(schedule: UnsafeBufferPointer(w))
        }
    }

    /// Runs the 80 rounds over a block's message schedule `w`.
    @inline(__always)
    private mutating func compress(schedule w: UnsafeBufferPointer<UInt32>) {
        var a = self.h0
        var b = self.h1
        var c = self.h2
        var d = self.h3
        var e = self.h4
        // Five rounds per step with the roles of a...e rotated in the code rather than by moving values
        // (the moves were a third of a round); each round kind has its own loop, so no branch per round.
        @inline(__always)
        func five(_ t: Int, _ k: UInt32, _ f: (UInt32, UInt32, UInt32) -> UInt32) {
            e &+= Self.rotateLeft(a, by: 5) &+ f(b, c, d) &+ k &+ w[t]
            b = Self.rotateLeft(b, by: 30)
            d &+= Self.rotateLeft(e, by: 5) &+ f(a, b, c) &+ k &+ w[t + 1]
            a = Self.rotateLeft(a, by: 30)
            c &+= Self.rotateLeft(d, by: 5) &+ f(e, a, b) &+ k &+ w[t + 2]
            e = Self.rotateLeft(e, by: 30)
            b &+= Self.rotateLeft(c, by: 5) &+ f(d, e, a) &+ k &+ w[t + 3]
            d = Self.rotateLeft(d, by: 30)
            a &+= Self.rotateLeft(b, by: 5) &+ f(c, d, e) &+ k &+ w[t + 4]
            c = Self.rotateLeft(c, by: 30)
        }
        for t in stride(from: 0, to: 20, by: 5) { five(t, 0x5A82_7999) { b, c, d in d ^ (b & (c ^ d)) } }
        for t in stride(from: 20, to: 40, by: 5) { five(t, 0x6ED9_EBA1) { b, c, d in b ^ c ^ d } }
        for t in stride(from: 40, to: 60, by: 5) { five(t, 0x8F1B_BCDC) { b, c, d in (b & c) | (d & (b | c)) } }
        for t in stride(from: 60, to: 80, by: 5) { five(t, 0xCA62_C1D6) { b, c, d in b ^ c ^ d } }
        self.h0 &+= a
        self.h1 &+= b
        self.h2 &+= c
        self.h3 &+= d
        self.h4 &+= e
    }

    @inline(__always)
    private static func rotateLeft(_ value: UInt32, by amount: UInt32) -> UInt32 {
        (value << amount) | (value >> (32 - amount))
    }
}
