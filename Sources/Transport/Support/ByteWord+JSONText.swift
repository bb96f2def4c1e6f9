extension ByteWord {
    /// Whether `bytes` go between JSON quotes as they are: no control byte, `"` or `\`, and with `asciiOnly`
    /// no byte from 0x80 up. Eight bytes at a time: the ids in every new connection's open and CONNECT
    /// packets cost about 300 instructions each with a byte loop.
    @inlinable
    public static func isPlainJSONText(_ bytes: UnsafeBufferPointer<UInt8>, asciiOnly: Bool) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let highMask: UInt64 = asciiOnly ? Self.highs : 0
        var i = 0
        while bytes.count - i >= 8 {
            let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            // `below` reads a lane from 0x80 up as not below: non-ASCII bytes pass unless masked in.
            if Self.below(word, 0x20) | (word & highMask) | Self.equal(word, 0x22) | Self.equal(word, 0x5C) != 0 {
                return false
            }
            i += 8
        }
        while i < bytes.count {
            let byte = base[i]
            if byte < 0x20 || byte == 0x22 || byte == 0x5C || (asciiOnly && byte >= 0x80) { return false }
            i += 1
        }
        return true
    }
}
