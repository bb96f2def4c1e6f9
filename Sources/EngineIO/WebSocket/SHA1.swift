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
        self.pending.reserveCapacity(64)
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

        var digest = [UInt8]()
        digest.reserveCapacity(Self.digestSize)
        for word in [self.h0, self.h1, self.h2, self.h3, self.h4] {
            digest.append(UInt8(truncatingIfNeeded: word >> 24))
            digest.append(UInt8(truncatingIfNeeded: word >> 16))
            digest.append(UInt8(truncatingIfNeeded: word >> 8))
            digest.append(UInt8(truncatingIfNeeded: word))
        }
        return digest
    }

    /// Processes one 64-byte block (FIPS 180-4 §6.1.2).
    private mutating func compress(block: UnsafeRawBufferPointer) {
        // The 80-word message schedule is a temporary (stack) allocation, so hashing allocates nothing per
        // block.
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 80) { w in
            for t in 0..<16 {
                // Words are big-endian; load byte-wise so alignment never matters.
                let b0 = UInt32(block[t * 4]) << 24
                let b1 = UInt32(block[t * 4 + 1]) << 16
                let b2 = UInt32(block[t * 4 + 2]) << 8
                let b3 = UInt32(block[t * 4 + 3])
                w[t] = b0 | b1 | b2 | b3
            }
            for t in 16..<80 {
                w[t] = Self.rotateLeft(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], by: 1)
            }

            var a = self.h0
            var b = self.h1
            var c = self.h2
            var d = self.h3
            var e = self.h4
            for t in 0..<80 {
                let f: UInt32
                let k: UInt32
                switch t {
                case 0..<20:
                    f = (b & c) | (~b & d)
                    k = 0x5A82_7999
                case 20..<40:
                    f = b ^ c ^ d
                    k = 0x6ED9_EBA1
                case 40..<60:
                    f = (b & c) | (b & d) | (c & d)
                    k = 0x8F1B_BCDC
                default:
                    f = b ^ c ^ d
                    k = 0xCA62_C1D6
                }
                let temp = Self.rotateLeft(a, by: 5) &+ f &+ e &+ k &+ w[t]
                e = d
                d = c
                c = Self.rotateLeft(b, by: 30)
                b = a
                a = temp
            }
            self.h0 &+= a
            self.h1 &+= b
            self.h2 &+= c
            self.h3 &+= d
            self.h4 &+= e
        }
    }

    @inline(__always)
    private static func rotateLeft(_ value: UInt32, by amount: UInt32) -> UInt32 {
        (value << amount) | (value >> (32 - amount))
    }
}
