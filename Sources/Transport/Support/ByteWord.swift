/// Tests on eight bytes at once (one unaligned `UInt64` load), for scanners that skip over runs of bytes
/// needing no attention. Each test returns a word whose high bit is set in a lane that matches, and
/// possibly in lanes above a match (a borrow), so it answers "does some byte match" exactly but not where.
public enum ByteWord {
    @usableFromInline static let ones: UInt64 = 0x0101_0101_0101_0101
    @usableFromInline static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Lanes of `word` equal to `byte`.
    @inlinable @inline(__always)
    public static func equal(_ word: UInt64, _ byte: UInt8) -> UInt64 {
        let x = word ^ (UInt64(byte) &* ones)
        return (x &- ones) & ~x & highs
    }

    /// Lanes of `word` below `bound` (at most 0x80).
    @inlinable @inline(__always)
    public static func below(_ word: UInt64, _ bound: UInt8) -> UInt64 {
        (word &- UInt64(bound) &* ones) & ~word & highs
    }

    /// Lanes of `word` from 0x80 up (non-ASCII).
    @inlinable @inline(__always)
    public static func nonASCII(_ word: UInt64) -> UInt64 {
        word & highs
    }
}
