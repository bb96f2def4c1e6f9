/// A seeded hash of a short byte string for tables keyed by ids the server generated at random (session and
/// socket ids), in place of `Hasher`: SipHash cost about 150 instructions per id, and a table deletion
/// rehashes the entries after the removed one, so every connection paid it several times on open and close.
///
/// Not for keys a client chooses: the point of SipHash is that nobody can make many keys collide, and this
/// hash does not promise that. Lookups with a client's id are fine (they add nothing to the table).
package enum GeneratedIDHash {
    /// The hash of `bytes` for a table whose seed is `seed`.
    @inlinable @inline(__always)
    package static func hash(_ bytes: UnsafeRawBufferPointer, seed: Int) -> Int {
        let count = bytes.count
        var state = UInt64(bitPattern: Int64(seed)) ^ (UInt64(count) &* 0x9E37_79B9_7F4A_7C15)
        guard count >= 8 else {
            var tail: UInt64 = 0
            for index in 0..<count { tail |= UInt64(bytes[index]) << UInt64(index * 8) }
            return Self.finish(Self.mix(state ^ tail))
        }
        var offset = 0
        while offset + 8 < count {
            state = Self.mix(state ^ bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            offset += 8
        }
        // The last eight bytes, overlapping the word before when the length is not a multiple of eight.
        state = Self.mix(state ^ bytes.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self))
        return Self.finish(state)
    }

    /// One multiply and shift: every output bit, the low ones a table's buckets use included, depends on
    /// every input bit.
    @inlinable @inline(__always)
    package static func mix(_ value: UInt64) -> UInt64 {
        let product = (value ^ (value >> 32)) &* 0xBF58_476D_1CE4_E5B9
        return product ^ (product >> 31)
    }

    /// The table's hash from the final state (its high half folded into the low bits too).
    @inlinable @inline(__always)
    package static func finish(_ state: UInt64) -> Int {
        Int(truncatingIfNeeded: state ^ (state >> 32))
    }
}

/// A generated id of up to 23 bytes and its length in three words, as a table key: 24 bytes a slot, compared
/// in three steps and hashed with `GeneratedIDHash`, with no string to retain, hash or compare.
package struct GeneratedIDKey: Hashable, Sendable {
    @usableFromInline var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
    /// The longest id a key holds.
    package static let capacity = 23

    /// The key of `bytes`, nil when they are longer than `capacity`.
    @inlinable
    package init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count <= Self.capacity else { return nil }
        withUnsafeMutableBytes(of: &self.words) { raw in
            if let base = bytes.baseAddress { raw.baseAddress?.copyMemory(from: base, byteCount: bytes.count) }
            raw[Self.capacity] = UInt8(truncatingIfNeeded: bytes.count)
        }
    }

    /// The key of `id`'s UTF-8 bytes, nil when they are longer than `capacity`.
    @inlinable
    package init?(_ id: String) {
        var id = id
        guard let key = id.withUTF8({ Self(UnsafeRawBufferPointer($0)) }) else { return nil }
        self = key
    }

    /// Equal when the bytes and the length are.
    @inlinable
    package static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2
    }

    /// Feeds the key's table hash (see `_rawHashValue`).
    @inlinable
    package func hash(into hasher: inout Hasher) {
        hasher.combine(self._rawHashValue(seed: 0))
    }

    /// What a table hashes: the ids are generated at random, so no SipHash (see GeneratedIDHash).
    @inlinable
    package func _rawHashValue(seed: Int) -> Int {
        withUnsafeBytes(of: self.words) { GeneratedIDHash.hash($0, seed: seed) }
    }
}
