/// Values captured from the path by `:name` and `*name` pattern segments, percent-decoded.
public struct RouteParameters: Sendable, Sequence {
    /// Captured names and values, in pattern order.
    public private(set) var pairs: [(name: String, value: String)]

    /// Creates parameters from pairs.
    public init(_ pairs: [(String, String)] = []) {
        self.pairs = pairs.map { (name: $0.0, value: $0.1) }
    }

    /// The value captured for `name`, or nil.
    public subscript(name: String) -> String? {
        self.pairs.first { $0.name == name }?.value
    }

    /// The value for `name` as an integer, or nil.
    public func int(_ name: String) -> Int? {
        self[name].flatMap { Int($0) }
    }

    /// The value for `name`, or a thrown 400 when the route has no such parameter.
    public func require(_ name: String) throws(HTTPError) -> String {
        guard let value = self[name] else { throw .badRequest("missing parameter \(name)") }
        return value
    }

    /// The value for `name` as an integer, or a thrown 400 when absent or not a number.
    public func requireInt(_ name: String) throws(HTTPError) -> Int {
        guard let value = self.int(name) else { throw .badRequest("parameter \(name) must be an integer") }
        return value
    }

    /// Iterates the captures in pattern order.
    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        self.pairs.makeIterator()
    }
}
