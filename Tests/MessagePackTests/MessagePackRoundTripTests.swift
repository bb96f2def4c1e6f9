import MessagePack
import Testing

/// Property: any value survives encode → decode unchanged, and decoding then encoding again gives the
/// same bytes (the encoder's forms are canonical).
struct MessagePackRoundTripTests {
    @Test func randomValuesRoundTrip() throws {
        var generator = SplitMix64(seed: 0x5EED)
        for _ in 0..<1_500 {
            let value = Self.randomValue(&generator, depth: 0)
            let encoded = MessagePackEncoder.encode(value)
            let decoded = try MessagePackDecoder.decode(encoded)
            #expect(decoded == value)
            #expect(MessagePackEncoder.encode(decoded) == encoded)
        }
    }

    static func randomValue(_ generator: inout SplitMix64, depth: Int) -> MessagePackValue {
        let kinds = depth >= 4 ? 8 : 10
        switch generator.next() % UInt64(kinds) {
        case 0: return .nil
        case 1: return .bool(generator.next() & 1 == 1)
        case 2:
            // Spread over every width: shift a random word right by a random amount, random sign.
            let magnitude = Int64(bitPattern: generator.next() >> (1 + generator.next() % 63))
            return .int(generator.next() & 1 == 1 ? magnitude : -magnitude)
        case 3: return .uint(UInt64(Int64.max) + 1 + generator.next() % UInt64(Int64.max))
        case 4:
            // Never integral: integral floats are JavaScript integers and come back as `.int`.
            return .float(Double(Int64(generator.next() % 2_000_000) - 1_000_000) + 0.5)
        case 5:
            let length = Int(generator.next() % 3 == 0 ? generator.next() % 300 : generator.next() % 20)
            let scalars = ["a", "Z", "0", "é", "€", "😀", " ", "\"", "\u{0}"]
            return .string((0..<length).map { _ in scalars[Int(generator.next() % UInt64(scalars.count))] }.joined())
        case 6:
            if generator.next() % 8 == 0 {
                // Large enough for bin 16 and bin 32; the content does not matter there.
                return .binary([UInt8](repeating: 0xAB, count: Int(generator.next() % 70_000)))
            }
            return .binary((0..<Int(generator.next() % 10)).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
        case 7: return .ext(type: Int8(truncatingIfNeeded: generator.next()), data: [UInt8](repeating: 1, count: Int(generator.next() % 20)))
        case 8:
            let count = Int(generator.next() % 20)
            return .array((0..<count).map { _ in randomValue(&generator, depth: depth + 1) })
        default:
            let count = Int(generator.next() % 18)
            return .map((0..<count).map { index in
                MessagePackPair(.string("k\(index)"), randomValue(&generator, depth: depth + 1))
            })
        }
    }
}

/// A small seeded generator, so that a failure reproduces.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { self.state = seed }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
