/// A compiled route path such as `/ai_project/:id` or `/static/*path`.
struct RoutePattern: Sendable {
    enum Segment: Sendable, Equatable {
        /// Must equal the (percent-decoded) path segment.
        case literal(String)
        /// `:name`: any one non-empty segment.
        case parameter(String)
        /// `*name`: the rest of the path (zero or more segments), joined with `/`. Only last.
        case wildcard(String)
    }

    let text: String
    let segments: [Segment]
    /// Whether the last segment is a `*name` wildcard (which matches zero or more path segments).
    let endsInWildcard: Bool

    /// Compiles `path`. A wildcard anywhere but last is a programming error in route setup.
    init(_ path: String) {
        self.text = path
        var segments: [Segment] = []
        for piece in path.split(separator: "/") {
            if piece.first == ":" {
                segments.append(.parameter(String(piece.dropFirst())))
            } else if piece.first == "*" {
                let name = piece.dropFirst()
                segments.append(.wildcard(name.isEmpty ? "*" : String(name)))
            } else {
                segments.append(.literal(String(piece)))
            }
        }
        if let index = segments.firstIndex(where: { if case .wildcard = $0 { return true } else { return false } }) {
            precondition(index == segments.count - 1, "route \(path): a *wildcard must be the last segment")
        }
        self.segments = segments
        if case .wildcard? = segments.last { self.endsInWildcard = true } else { self.endsInWildcard = false }
    }

    /// Per segment: literal 2, parameter 1, wildcard 0. Compared lexicographically, larger is more specific.
    var specificity: [Int] {
        self.segments.map { segment in
            switch segment {
            case .literal: return 2
            case .parameter: return 1
            case .wildcard: return 0
            }
        }
    }

    /// Whether `path` (segments already percent-decoded) matches, without building captures: routing tries
    /// many patterns per request and builds captures only for the winner.
    func matches(_ path: [String]) -> Bool {
        let count = self.segments.count
        if self.endsInWildcard ? path.count < count - 1 : path.count != count { return false }
        for index in 0..<count {
            if case .literal(let literal) = self.segments[index], path[index] != literal { return false }
        }
        return true
    }

    /// The `(name, value)` captures for a `path` that `matches`, in pattern order.
    func captures(_ path: [String]) -> [(String, String)] {
        var captures: [(String, String)] = []
        for (index, segment) in self.segments.enumerated() {
            switch segment {
            case .literal:
                continue
            case .parameter(let name):
                captures.append((name, path[index]))
            case .wildcard(let name):
                captures.append((name, path[index...].joined(separator: "/")))
            }
        }
        return captures
    }

    /// Splits a raw request path into decoded segments. Empty segments (`//`, a trailing `/`) are dropped,
    /// so `/a/` and `/a` route alike; decoding after splitting keeps an encoded `%2F` inside its segment.
    /// The decoded segments of an ASCII path's bytes, or nil when a byte is not ASCII. Works on the buffer
    /// (no per-byte index checks), and a segment without `%` becomes its string without decoding.
    private static func asciiSegments(of bytes: UnsafeBufferPointer<UInt8>) -> [String]? {
        var segments: [String] = []
        var start = 0
        var hasEscape = false
        for index in 0...bytes.count {
            let byte = index < bytes.count ? bytes[index] : UInt8(ascii: "/")
            if byte >= 0x80 { return nil }
            if byte == UInt8(ascii: "%") { hasEscape = true }
            guard byte == UInt8(ascii: "/") else { continue }
            if start != index {
                let segment = UnsafeBufferPointer(rebasing: bytes[start..<index])
                segments.append(hasEscape
                    ? String(decoding: PercentDecoding.decodeBytes(segment), as: UTF8.self)
                    : String(decoding: segment, as: UTF8.self))
            }
            start = index + 1
            hasEscape = false
        }
        return segments
    }

    static func segments(ofRequestPath rawPath: Substring) -> [String] {
        var path = rawPath
        // absolute-form targets (`http://host/path`, RFC 9112 §3.2.2) route by their path.
        // Origin-form paths start with `/`, so only others need the scheme checks.
        if path.utf8.first != UInt8(ascii: "/") {
            for scheme in ["http://", "https://"] where path.hasPrefix(scheme) {
                let afterScheme = path.dropFirst(scheme.count)
                path = afterScheme.firstIndex(of: "/").map { afterScheme[$0...] } ?? "/"
                break
            }
        }
        // ASCII (every path a client sends percent-encoded) is split as bytes: the same segments, since only
        // a non-ASCII combining mark could join a `/` into a larger character.
        if let segments = path.utf8.withContiguousStorageIfAvailable(Self.asciiSegments(of:)), let segments {
            return segments
        }
        return path.split(separator: "/").map { PercentDecoding.decode($0) }
    }
}
