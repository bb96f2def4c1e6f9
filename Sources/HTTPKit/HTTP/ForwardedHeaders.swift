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
        guard let first = headers["X-Forwarded-For"],
              let entry = first.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false).first
        else { return peer }
        let address = entry.trimmingSpaces
        return Self.isIPAddress(address) ? address : peer
    }

    /// Whether the left-most `X-Forwarded-Proto` entry is `https` (any case); `fallback` without the header.
    public static func isSecure(_ headers: HTTPHeaders, fallback: Bool) -> Bool {
        guard let first = headers["X-Forwarded-Proto"],
              let entry = first.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false).first
        else { return fallback }
        return entry.trimmingSpaces.lowercased() == "https"
    }

    static func isIPAddress(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 45 else { return false }
        var storage = in6_addr()
        return inet_pton(AF_INET, text, &storage) == 1 || inet_pton(AF_INET6, text, &storage) == 1
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(self.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
