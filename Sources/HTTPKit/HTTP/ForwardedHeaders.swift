import Glibc

/// What a reverse proxy tells us about the client it forwards (`X-Forwarded-For`, `X-Forwarded-Proto`),
/// read as Express does with `trust proxy = true`: the left-most entry of each, i.e. what the first proxy
/// saw. Only meaningful when every connection comes through a proxy that sets these headers; otherwise a
/// client could claim any address, which is why servers read them only when told to.
public enum ForwardedHeaders {
    /// The client address from the left-most `X-Forwarded-For` entry, or `peer` when the header is missing or
    /// that entry is not an IPv4 or IPv6 address (so no arbitrary text reaches logs and pages).
    public static func clientAddress(_ headers: HTTPHeaders, peer: String) -> String {
        // Several header lines count as one comma-separated list, the first line first.
        guard let first = headers["X-Forwarded-For"] else { return peer }
        let address = String(Self.firstEntry(first))
        return Self.isIPAddress(address) ? address : peer
    }

    /// Whether the left-most `X-Forwarded-Proto` entry is `https` (any case); `fallback` without the header.
    public static func isSecure(_ headers: HTTPHeaders, fallback: Bool) -> Bool {
        guard let first = headers["X-Forwarded-Proto"] else { return fallback }
        let entry = Self.firstEntry(first).utf8
        // ASCII letters only: setting bit 5 lowercases them.
        return entry.count == 5 && zip(entry, "https".utf8).allSatisfy { $0 | 0x20 == $1 }
    }

    /// The left-most comma-separated entry of `value` without the spaces and tabs around it. Scans bytes: behind a
    /// proxy this runs for every request, and the Character-based version cost tens of thousands of instructions.
    static func firstEntry(_ value: String) -> Substring {
        let bytes = value.utf8
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var start = bytes.startIndex
        var end = bytes.firstIndex(of: UInt8(ascii: ",")) ?? bytes.endIndex
        while start < end && isBlank(bytes[start]) { start = bytes.index(after: start) }
        while start < end {
            let last = bytes.index(before: end)
            guard isBlank(bytes[last]) else { break }
            end = last
        }
        return value[start..<end]
    }

    static func isIPAddress(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 45 else { return false }
        var storage = in6_addr()
        return inet_pton(AF_INET, text, &storage) == 1 || inet_pton(AF_INET6, text, &storage) == 1
    }
}
