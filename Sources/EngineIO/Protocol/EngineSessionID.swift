import Transport

/// Engine.IO session ids: 20 URL-safe characters, like Node's engine.io (`base64id`).
///
/// An id is 15 random bytes in base64 with `+` → `-` and `/` → `_`; 15 bytes encode to exactly 20
/// characters with no padding. 120 bits from the system CSPRNG make ids unguessable, which matters because
/// knowing a session id is enough to read and write that session over polling.
public enum EngineSessionID {
    /// Characters in every generated id.
    public static let length = 20

    /// A fresh id from the system's cryptographically secure generator (pooled: no system call per id).
    public static func generate() -> String {
        var generator = PooledSystemRandom()
        return generate(using: &generator)
    }

    /// A fresh id from `generator` (tests pass a seeded generator for reproducible ids).
    ///
    /// Runs for every new connection: the 15 bytes stay in two words and the 20 characters are written
    /// straight into the string's storage, its only allocation.
    public static func generate(using generator: inout some RandomNumberGenerator) -> String {
        let high = generator.next()
        let low = generator.next()
        return String(unsafeUninitializedCapacity: Self.length) { out in
            // Five groups of three bytes, each giving four characters.
            for group in 0..<5 {
                var triple: UInt32 = 0
                for offset in 0..<3 {
                    let index = group * 3 + offset
                    let word = index < 8 ? high : low
                    triple = triple << 8 | UInt32(truncatingIfNeeded: word >> (UInt64(index % 8) * 8)) & 0xFF
                }
                for position in 0..<4 {
                    out[group * 4 + position] = Self.alphabet[Int(triple >> UInt32(18 - 6 * position)) & 0x3F]
                }
            }
            return Self.length
        }
    }

    /// base64url: base64 with `+` → `-` and `/` → `_`.
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// True when `id` has the shape of a generated id (20 characters of `A–Z a–z 0–9 - _`).
    ///
    /// Lets a transport reject garbage `sid` parameters before a session table lookup; ids from other
    /// generators may not pass, so use it only where all ids come from `generate`.
    public static func isWellFormed(_ id: some StringProtocol) -> Bool {
        var count = 0
        for byte in id.utf8 {
            count += 1
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                continue
            default:
                return false
            }
        }
        return count == length
    }
}
