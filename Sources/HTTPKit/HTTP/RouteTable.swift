/// A `Router`'s routes, indexed once by their first literal segment so a request only tries the routes that
/// can match it, and held in classes so trying one copies nothing but a reference.
final class RouteTable: Sendable {
    final class Entry: Sendable {
        let method: String
        let pattern: RoutePattern
        let handler: RouteHandler
        /// Set for a direct route (`handler` then adapts it for the async path).
        let direct: DirectRouteHandler?
        /// Registration order: the tie-break between equally specific matches.
        let order: Int
        let specificity: [Int]

        init(method: String, pattern: RoutePattern, handler: @escaping RouteHandler, direct: DirectRouteHandler? = nil,
             order: Int) {
            self.method = method
            self.pattern = pattern
            self.handler = handler
            self.direct = direct
            self.order = order
            self.specificity = pattern.specificity
        }
    }

    /// How a request resolved against the table.
    enum Resolution: Sendable {
        case route(Entry, RouteParameters)
        case methodNotAllowed(allow: [String])
        case options(allow: [String])
        case notFound
    }

    private let entries: [Entry]
    /// Routes whose first segment is a literal, by that literal.
    private let byFirstLiteral: [String: [Entry]]
    /// Routes that start with a parameter or wildcard, or have no segments (`/`): any path may match them.
    private let unkeyed: [Entry]

    init(_ entries: [Entry]) {
        self.entries = entries
        var byFirstLiteral: [String: [Entry]] = [:]
        var unkeyed: [Entry] = []
        for entry in entries {
            if case .literal(let first)? = entry.pattern.segments.first {
                byFirstLiteral[first, default: []].append(entry)
            } else {
                unkeyed.append(entry)
            }
        }
        self.byFirstLiteral = byFirstLiteral
        self.unkeyed = unkeyed
    }

    /// The most specific route for `method` and `path` (HEAD falling back to GET), else why none fits.
    /// The candidates' order does not matter: `isMoreSpecific` breaks ties by registration order.
    func resolve(method: String, path: Substring) -> Resolution {
        let segments = RoutePattern.segments(ofRequestPath: path)
        let keyed = segments.first.flatMap { self.byFirstLiteral[$0] } ?? []

        var best: Entry?
        var bestGet: Entry?
        for pass in 0..<2 {
            for entry in pass == 0 ? keyed : self.unkeyed where entry.pattern.matches(segments) {
                if entry.method == method, best.map({ Self.isMoreSpecific(entry, than: $0) }) ?? true {
                    best = entry
                } else if method == "HEAD", entry.method == "GET",
                          bestGet.map({ Self.isMoreSpecific(entry, than: $0) }) ?? true {
                    bestGet = entry
                }
            }
        }
        if let match = best ?? bestGet {
            return .route(match, RouteParameters(match.pattern.captures(segments)))
        }

        // No route for this method (the rare path): which methods would have matched.
        var allowed: Set<String> = []
        for pass in 0..<2 {
            for entry in pass == 0 ? keyed : self.unkeyed where entry.pattern.matches(segments) { allowed.insert(entry.method) }
        }
        guard !allowed.isEmpty else { return .notFound }
        if allowed.contains("GET") { allowed.insert("HEAD") }
        if method == "OPTIONS" {
            allowed.insert("OPTIONS")
            return .options(allow: allowed.sorted())
        }
        return .methodNotAllowed(allow: allowed.sorted())
    }

    private static func isMoreSpecific(_ candidate: Entry, than current: Entry) -> Bool {
        let a = candidate.specificity, b = current.specificity
        for (x, y) in zip(a, b) where x != y { return x > y }
        // Same kinds up to the shorter length: the longer one ends in a wildcard matching nothing, and the
        // exact pattern is the better match.
        if a.count != b.count { return a.count < b.count }
        return candidate.order < current.order
    }
}
