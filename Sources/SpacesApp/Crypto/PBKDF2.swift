/// PBKDF2 with HMAC-SHA256 as PRF (RFC 8018 §5.2), checked against RFC 7914 §11.
enum PBKDF2 {
    /// Derives `length` bytes from `password` and `salt` with `iterations` rounds.
    static func sha256(password: [UInt8], salt: [UInt8], iterations: Int, length: Int) -> [UInt8] {
        precondition(iterations >= 1 && length >= 1)
        let prf = HMACSHA256(key: password)
        var output: [UInt8] = []
        output.reserveCapacity(length)
        var blockIndex: UInt32 = 1
        while output.count < length {
            var u = prf.mac(salt + [UInt8(blockIndex >> 24), UInt8(truncatingIfNeeded: blockIndex >> 16),
                                    UInt8(truncatingIfNeeded: blockIndex >> 8), UInt8(truncatingIfNeeded: blockIndex)])
            var accumulator = Self.words(u)
            if iterations > 1 {
                // Every later round MACs exactly 32 bytes: one block per hash, worked in words without
                // re-padding or allocating.
                var message = Self.words(u) + [0x8000_0000, 0, 0, 0, 0, 0, 0, 768]
                var inner = prf.innerState
                var outer = prf.outerState
                for _ in 1..<iterations {
                    inner.withUnsafeMutableBufferPointer { buffer in
                        for i in 0..<8 { buffer[i] = prf.innerState[i] }
                    }
                    SHA256.compress(&inner, words: message)
                    for i in 0..<8 { message[i] = inner[i] }
                    for i in 0..<8 { outer[i] = prf.outerState[i] }
                    SHA256.compress(&outer, words: message)
                    for i in 0..<8 {
                        message[i] = outer[i]
                        accumulator[i] ^= outer[i]
                    }
                }
                u = SHA256.bytes(of: accumulator)
            } else {
                u = SHA256.bytes(of: accumulator)
            }
            output.append(contentsOf: u.prefix(length - output.count))
            blockIndex += 1
        }
        return output
    }

    private static func words(_ bytes: [UInt8]) -> [UInt32] {
        (0..<8).map { i in
            UInt32(bytes[i * 4]) << 24 | UInt32(bytes[i * 4 + 1]) << 16 | UInt32(bytes[i * 4 + 2]) << 8 | UInt32(bytes[i * 4 + 3])
        }
    }
}
