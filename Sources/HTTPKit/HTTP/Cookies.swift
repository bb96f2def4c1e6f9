import Foundation

/// Parsing the request `Cookie` header (RFC 6265 §5.4 / §4.2).
public enum Cookies {
    /// Parses one or more `Cookie` header values into name → value.
    ///
    /// Pairs are separated by `;`; pieces without `=` are skipped. A value wrapped in double quotes is
    /// unwrapped. Values are returned as sent — not percent-decoded — because cookie values are opaque;
    /// use `PercentDecoding.decode` if your application encoded them. When a name repeats, the first wins:
    /// browsers list the cookie with the most specific path first.
    public static func parse(_ headerValues: [String]) -> [String: String] {
        var result: [String: String] = [:]
        for header in headerValues {
            // Every request of a logged-in page carries a cookie: ASCII, the usual case, is parsed as bytes
            // (the same pairs: in ASCII only CR LF is a multi-byte character, and it is none of `;`, `=`, `"`,
            // space or tab); anything else as characters.
            if header.utf8.allSatisfy({ $0 < 0x80 }) {
                self.parseASCII(header, into: &result)
                continue
            }
            for piece in header.split(separator: ";") {
                guard let equals = piece.firstIndex(of: "=") else { continue }
                let name = piece[..<equals].trimmingASCIISpaces()
                guard !name.isEmpty, result[String(name)] == nil else { continue }
                var value = piece[piece.index(after: equals)...].trimmingASCIISpaces()
                if value.count >= 2, value.first == "\"", value.last == "\"" {
                    value = value.dropFirst().dropLast()
                }
                result[String(name)] = String(value)
            }
        }
        return result
    }

    private static func parseASCII(_ header: String, into result: inout [String: String]) {
        let bytes = Array(header.utf8)
        func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: ";") { end += 1 }
            defer { start = end + 1 }
            guard let equals = bytes[start..<end].firstIndex(of: UInt8(ascii: "=")) else { continue }
            var nameStart = start, nameEnd = equals
            while nameStart < nameEnd && isSpace(bytes[nameStart]) { nameStart += 1 }
            while nameEnd > nameStart && isSpace(bytes[nameEnd - 1]) { nameEnd -= 1 }
            guard nameStart < nameEnd else { continue }
            let name = String(decoding: bytes[nameStart..<nameEnd], as: UTF8.self)
            guard result[name] == nil else { continue }
            var valueStart = equals + 1, valueEnd = end
            while valueStart < valueEnd && isSpace(bytes[valueStart]) { valueStart += 1 }
            while valueEnd > valueStart && isSpace(bytes[valueEnd - 1]) { valueEnd -= 1 }
            if valueEnd - valueStart >= 2 && bytes[valueStart] == UInt8(ascii: "\"") && bytes[valueEnd - 1] == UInt8(ascii: "\"") {
                valueStart += 1
                valueEnd -= 1
            }
            result[name] = String(decoding: bytes[valueStart..<valueEnd], as: UTF8.self)
        }
    }

    /// Parses a single `Cookie` header value.
    public static func parse(_ headerValue: String) -> [String: String] {
        parse([headerValue])
    }

    /// The cookies of a request (every `Cookie` header).
    public static func parse(_ headers: HTTPHeaders) -> [String: String] {
        parse(headers.values("Cookie"))
    }
}

/// A `Set-Cookie` response header value (RFC 6265 §4.1) with the attributes browsers honour today.
public struct SetCookie: Sendable, Equatable {
    /// The `SameSite` attribute.
    public enum SameSite: String, Sendable {
        case strict = "Strict"
        case lax = "Lax"
        case none = "None"
    }

    /// Cookie name; characters outside RFC 9110 `token` are dropped when serializing.
    public var name: String
    /// Cookie value; bytes outside RFC 6265 `cookie-octet` are percent-encoded when serializing.
    public var value: String
    /// `Path` attribute.
    public var path: String?
    /// `Domain` attribute.
    public var domain: String?
    /// `Max-Age` in seconds; zero or negative deletes the cookie.
    public var maxAge: Int?
    /// `Expires` attribute, for clients that predate Max-Age.
    public var expires: Date?
    /// `HttpOnly`: hidden from scripts.
    public var httpOnly: Bool
    /// `Secure`: sent only over HTTPS. Always emitted with `SameSite=None`, which browsers require.
    public var secure: Bool
    /// `SameSite` attribute.
    public var sameSite: SameSite?

    /// Creates a cookie; only name and value are required.
    public init(
        name: String, value: String, path: String? = "/", domain: String? = nil, maxAge: Int? = nil,
        expires: Date? = nil, httpOnly: Bool = false, secure: Bool = false, sameSite: SameSite? = nil
    ) {
        self.name = name
        self.value = value
        self.path = path
        self.domain = domain
        self.maxAge = maxAge
        self.expires = expires
        self.httpOnly = httpOnly
        self.secure = secure
        self.sameSite = sameSite
    }

    /// A cookie that tells the browser to delete `name` (empty value, Max-Age=0, Expires in the past).
    public static func deletion(name: String, path: String? = "/", domain: String? = nil) -> SetCookie {
        SetCookie(name: name, value: "", path: path, domain: domain, maxAge: 0,
                  expires: Date(timeIntervalSince1970: 0))
    }

    /// The serialized header value, e.g. `sid=abc; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax`.
    ///
    /// Everything is sanitized so no input can inject attributes or break the header line.
    public var headerValue: String {
        var out = String(self.name.unicodeScalars.filter { $0.isASCII && HTTPSyntax.isTokenChar(UInt8($0.value)) })
        out += "="
        out += Self.encodeValue(self.value)
        if let path { out += "; Path=" + Self.attributeText(path) }
        if let domain { out += "; Domain=" + Self.attributeText(domain) }
        if let maxAge { out += "; Max-Age=\(maxAge)" }
        if let expires {
            out += "; Expires=" + HTTPDate.format(epochSeconds: Int(expires.timeIntervalSince1970.rounded(.down)))
        }
        if self.secure || self.sameSite == SameSite.none { out += "; Secure" }
        if self.httpOnly { out += "; HttpOnly" }
        if let sameSite { out += "; SameSite=" + sameSite.rawValue }
        return out
    }

    /// `cookie-octet` = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E; `%` itself is encoded so the
    /// encoding stays reversible.
    private static func encodeValue(_ value: String) -> String {
        var out: [UInt8] = []
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        for byte in value.utf8 {
            let allowed = byte == 0x21 || (0x23...0x2B).contains(byte) || (0x2D...0x3A).contains(byte)
                || (0x3C...0x5B).contains(byte) || (0x5D...0x7E).contains(byte)
            if allowed && byte != UInt8(ascii: "%") {
                out.append(byte)
            } else {
                out.append(contentsOf: [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Attribute values may not contain `;` or control characters; those are dropped.
    private static func attributeText(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F && $0 != ";" })
    }
}

extension HTTPResponse {
    /// Adds a `Set-Cookie` header (existing ones are kept: each cookie needs its own header line).
    public mutating func setCookie(_ cookie: SetCookie) {
        self.headers.add("Set-Cookie", cookie.headerValue)
    }
}
