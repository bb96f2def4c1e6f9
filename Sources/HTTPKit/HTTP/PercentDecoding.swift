/// Percent-decoding (RFC 3986 §2.1) the way browsers' URL parsers do it.
///
/// Leniency, on purpose: an invalid escape — `%` not followed by two hex digits, as in `100%` or `%zz` —
/// is kept literally instead of failing, matching the WHATWG URL and `application/x-www-form-urlencoded`
/// parsers. Decoded bytes that are not valid UTF-8 become U+FFFD, so the result is always a `String`.
public enum PercentDecoding {
    /// Decodes `%XX` escapes (and `+` as space when `plusAsSpace`) into bytes.
    public static func decodeBytes(_ bytes: some Collection<UInt8>, plusAsSpace: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                let h1 = bytes.index(after: index)
                if h1 != bytes.endIndex, let high = HTTPSyntax.hexValue(bytes[h1]) {
                    let h2 = bytes.index(after: h1)
                    if h2 != bytes.endIndex, let low = HTTPSyntax.hexValue(bytes[h2]) {
                        out.append(UInt8(high << 4 | low))
                        index = bytes.index(after: h2)
                        continue
                    }
                }
                out.append(byte)  // invalid escape: keep the `%` literally
            } else if plusAsSpace && byte == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else {
                out.append(byte)
            }
            index = bytes.index(after: index)
        }
        return out
    }

    /// Decodes `text` to a string; see the type's notes on leniency.
    public static func decode(_ text: some StringProtocol, plusAsSpace: Bool = false) -> String {
        let utf8 = text.utf8
        // Fast path: nothing to decode, so no copy through bytes.
        if !utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusAsSpace && $0 == UInt8(ascii: "+")) }) {
            return String(text)
        }
        return String(decoding: decodeBytes(utf8, plusAsSpace: plusAsSpace), as: UTF8.self)
    }
}

/// Percent-encoding for building URLs, query strings and cookie values.
public enum PercentEncoding {
    /// Encodes every byte except RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`), like
    /// JavaScript's `encodeURIComponent` minus its extra `!'()*`.
    public static func encodeComponent(_ text: some StringProtocol) -> String {
        encode(text) { isUnreserved($0) }
    }

    /// Encodes for `application/x-www-form-urlencoded`: space becomes `+`.
    public static func encodeFormComponent(_ text: some StringProtocol) -> String {
        Substring(text).split(separator: " ", omittingEmptySubsequences: false)
            .map { encodeComponent($0) }
            .joined(separator: "+")
    }

    /// Encodes one path segment: unreserved characters and the sub-delims allowed in paths stay as they are.
    public static func encodePathSegment(_ text: some StringProtocol) -> String {
        encode(text) { byte in
            isUnreserved(byte) || "!$&'()*+,;=:@".utf8.contains(byte)
        }
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    private static func encode(_ text: some StringProtocol, keep: (UInt8) -> Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if keep(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
