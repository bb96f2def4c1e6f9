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
    /// Runs twice for every new connection (the session's id and its socket's): the 15 bytes stay in two
    /// words and the 20 characters are written straight into the string's storage, its only allocation,
    /// through pointers (indexing the arrays cost about 280 instructions more per id).
    public static func generate(using generator: inout some RandomNumberGenerator) -> String {
        // The id's 15 bytes: the first word's eight, least significant first, then the second's.
        var words = (generator.next().littleEndian, generator.next().littleEndian)
        return withUnsafeBytes(of: &words) { bytes in
            Self.alphabet.withUnsafeBufferPointer { alphabet in
                String(unsafeUninitializedCapacity: Self.length) { out in
                    guard let source = bytes.baseAddress, let table = alphabet.baseAddress, let base = out.baseAddress
                    else { return 0 }
                    // Five groups of three bytes, each giving four characters.
                    for group in 0..<5 {
                        let first = source.load(fromByteOffset: group * 3, as: UInt8.self)
                        let second = source.load(fromByteOffset: group * 3 + 1, as: UInt8.self)
                        let third = source.load(fromByteOffset: group * 3 + 2, as: UInt8.self)
                        let triple = Int(first) << 16 | Int(second) << 8 | Int(third)
                        let at = base + group * 4
                        at[0] = table[triple >> 18 & 0x3F]
                        at[1] = table[triple >> 12 & 0x3F]
                        at[2] = table[triple >> 6 & 0x3F]
                        at[3] = table[triple & 0x3F]
                    }
                    return Self.length
                }
            }
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
