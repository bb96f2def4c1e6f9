/// UTF-8 well-formedness checking for text packets received over long-polling.
///
/// A WebSocket layer must validate text frames itself (RFC 6455 §8.1), but polling bodies arrive as raw
/// bytes, and text packets are kept as bytes rather than `String`, so nothing else would catch malformed
/// sequences before they reach application code. This avoids building a `String` just to validate.
public enum UTF8Validation {
    /// True when `bytes` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
    public static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let count = bytes.count
        var index = 0
        while index < count {
            // Socket.IO text is mostly JSON and therefore mostly ASCII: skip eight ASCII bytes per step.
            while index + 8 <= count {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                if word & 0x8080_8080_8080_8080 != 0 { break }
                index += 8
            }
            guard index < count else { return true }
            let lead = base[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            // The allowed range of the second byte depends on the lead byte; this is what rules out
            // overlong forms, UTF-16 surrogates and values above U+10FFFF (RFC 3629 §4).
            let trailing: Int
            var secondLow: UInt8 = 0x80
            var secondHigh: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: trailing = 1
            case 0xE0: trailing = 2; secondLow = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: trailing = 2
            case 0xED: trailing = 2; secondHigh = 0x9F
            case 0xF0: trailing = 3; secondLow = 0x90
            case 0xF1...0xF3: trailing = 3
            case 0xF4: trailing = 3; secondHigh = 0x8F
            default: return false
            }
            guard index + trailing < count else { return false }
            let second = base[index + 1]
            guard second >= secondLow && second <= secondHigh else { return false }
            var offset = 2
            while offset <= trailing {
                guard base[index + offset] & 0xC0 == 0x80 else { return false }
                offset += 1
            }
            index += trailing + 1
        }
        return true
    }

    /// True when `bytes` is well-formed UTF-8.
    public static func isValid(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { isValid($0) }
    }
}
