/// HMAC-SHA256 (RFC 2104), checked against RFC 4231.
struct HMACSHA256: Sendable {
    /// State after the key block XOR ipad / opad: PBKDF2 reuses them for every iteration.
    let innerState: [UInt32]
    let outerState: [UInt32]

    init(key: [UInt8]) {
        var block = key.count > SHA256.blockSize ? SHA256.hash(key) : key
        block += [UInt8](repeating: 0, count: SHA256.blockSize - block.count)
        var inner = SHA256.initialState
        SHA256.compress(&inner, bytes: block.map { $0 ^ 0x36 }, offset: 0)
        var outer = SHA256.initialState
        SHA256.compress(&outer, bytes: block.map { $0 ^ 0x5c }, offset: 0)
        self.innerState = inner
        self.outerState = outer
    }

    /// The MAC of `message` under `key`.
    static func authenticate(_ message: [UInt8], key: [UInt8]) -> [UInt8] {
        HMACSHA256(key: key).mac(message)
    }

    /// The MAC of `message`.
    func mac(_ message: [UInt8]) -> [UInt8] {
        let inner = Self.finish(state: self.innerState, message: message)
        return Self.finish(state: self.outerState, message: inner)
    }

    /// SHA-256 continued from `state` (one block already absorbed) over `message`.
    private static func finish(state: [UInt32], message: [UInt8]) -> [UInt8] {
        var state = state
        let total = UInt64(SHA256.blockSize + message.count) * 8
        var tail = message
        tail.append(0x80)
        while tail.count % SHA256.blockSize != 56 { tail.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { tail.append(UInt8(truncatingIfNeeded: total >> UInt64(shift))) }
        var offset = 0
        while offset < tail.count {
            SHA256.compress(&state, bytes: tail, offset: offset)
            offset += SHA256.blockSize
        }
        return SHA256.bytes(of: state)
    }
}

/// Comparison whose time does not depend on where the inputs differ (MACs, tokens).
func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for i in 0..<a.count { difference |= a[i] ^ b[i] }
    return difference == 0
}

/// `constantTimeEquals` over the UTF-8 of two strings.
func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    constantTimeEquals(Array(a.utf8), Array(b.utf8))
}
