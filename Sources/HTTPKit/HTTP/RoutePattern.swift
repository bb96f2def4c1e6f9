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

    /// Captures for `path` (segments already percent-decoded), or nil when it does not match.
    func match(_ path: [String]) -> [(String, String)]? {
        var captures: [(String, String)] = []
        for (index, segment) in self.segments.enumerated() {
            switch segment {
            case .literal(let literal):
                guard index < path.count, path[index] == literal else { return nil }
            case .parameter(let name):
                guard index < path.count else { return nil }
                captures.append((name, path[index]))
            case .wildcard(let name):
                captures.append((name, path[index...].joined(separator: "/")))
                return captures
            }
        }
        return path.count == self.segments.count ? captures : nil
    }

    /// Splits a raw request path into decoded segments. Empty segments (`//`, a trailing `/`) are dropped,
    /// so `/a/` and `/a` route alike; decoding after splitting keeps an encoded `%2F` inside its segment.
    static func segments(ofRequestPath rawPath: Substring) -> [String] {
        var path = rawPath
        // absolute-form targets (`http://host/path`, RFC 9112 §3.2.2) route by their path.
        for scheme in ["http://", "https://"] where path.hasPrefix(scheme) {
            let afterScheme = path.dropFirst(scheme.count)
            path = afterScheme.firstIndex(of: "/").map { afterScheme[$0...] } ?? "/"
            break
        }
        // ASCII (every path a client sends percent-encoded) is split as bytes: the same segments, since only
        // a non-ASCII combining mark could join a `/` into a larger character.
        if path.utf8.allSatisfy({ $0 < 0x80 }) {
            var segments: [String] = []
            let bytes = path.utf8
            var start = bytes.startIndex
            var index = start
            while index != bytes.endIndex {
                if bytes[index] == UInt8(ascii: "/") {
                    if start != index { segments.append(PercentDecoding.decode(path[start..<index])) }
                    start = bytes.index(after: index)
                }
                index = bytes.index(after: index)
            }
            if start != index { segments.append(PercentDecoding.decode(path[start..<index])) }
            return segments
        }
        return path.split(separator: "/").map { PercentDecoding.decode($0) }
    }
}
