import Foundation
import Transport

/// Random bytes and tokens from the kernel (getrandom via /dev/urandom semantics).
enum SecureRandom {
    /// Requests of at most this many bytes are served from the thread's pool of kernel random bytes.
    private static let pooledLimit = 64

    /// `count` cryptographically secure random bytes.
    static func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        if count <= Self.pooledLimit {
            // Ids and tokens (a submit takes 40 bytes): from the per-thread pool PooledSystemRandom refills with one
            // getrandom(2) per 512 bytes, rather than a system call each.
            var generator = PooledSystemRandom()
            var filled = 0
            while filled < count {
                withUnsafeBytes(of: generator.next()) { word in
                    for byte in word where filled < count {
                        out[filled] = byte
                        filled += 1
                    }
                }
            }
            return out
        }
        // One getentropy(3) (a getrandom(2) call) per 256 bytes.
        var filled = 0
        while filled < count {
            let chunk = min(256, count - filled)
            let status = out.withUnsafeMutableBytes { buffer in
                buffer.baseAddress.map { getentropy($0 + filled, chunk) } ?? -1
            }
            guard status == 0 else { break }
            filled += chunk
        }
        if filled < count {
            // No getrandom (an old kernel, a seccomp filter): the standard generator, eight bytes per draw.
            var generator = SystemRandomNumberGenerator()
            while filled < count {
                withUnsafeBytes(of: generator.next() as UInt64) { word in
                    for byte in word where filled < count {
                        out[filled] = byte
                        filled += 1
                    }
                }
            }
        }
        return out
    }

    /// A random (version 4) UUID in lowercase, from the same source: Foundation's `UUID()` opened, read and
    /// closed /dev/urandom for each one.
    static func uuid() -> String {
        var bytes = self.bytes(16)
        bytes[6] = bytes[6] & 0x0f | 0x40
        bytes[8] = bytes[8] & 0x3f | 0x80
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(36)
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A URL-safe token carrying `byteCount` random bytes.
    static func token(byteCount: Int = 24) -> String {
        Base64URL.encode(self.bytes(byteCount))
    }
}

/// Base64url without padding (RFC 4648 §5), for cookies, tokens and salts.
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    /// Each ASCII byte's 6-bit value, 255 for bytes outside the alphabet.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 255, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// Unpadded base64url (RFC 4648 §5), written directly: it runs for every token and cookie.
    static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index < bytes.count {
            let count = min(3, bytes.count - index)
            var group = UInt32(bytes[index]) << 16
            if count > 1 { group |= UInt32(bytes[index + 1]) << 8 }
            if count > 2 { group |= UInt32(bytes[index + 2]) }
            for position in 0...count {
                out.append(self.alphabet[Int(group >> (18 - 6 * UInt32(position)) & 0x3f)])
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of unpadded (or padded) base64url text; nil when it is not base64url.
    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var utf8 = Array(text.utf8)
        while utf8.last == UInt8(ascii: "=") { utf8.removeLast() }
        guard utf8.count % 4 != 1 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count * 3 / 4)
        var group: UInt32 = 0
        var bits = 0
        for byte in utf8 {
            let value = self.values[Int(byte)]
            guard value != 255 else { return nil }
            group = group << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: group >> UInt32(bits)))
            }
        }
        return out
    }
}

/// Lowercase hexadecimal.
enum Hex {
    static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
