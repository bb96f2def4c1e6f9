/// Ordered name/value pairs from a query string or urlencoded form, with lookup helpers.
///
/// Order and repeated names are kept (`tag=a&tag=b`), because forms and APIs rely on both.
public struct QueryParameters: Sendable, Sequence, Equatable {
    /// The pairs in the order they appeared.
    public private(set) var pairs: [(name: String, value: String)]

    /// An empty list.
    public init() { self.pairs = [] }

    /// A list from explicit pairs.
    public init(_ pairs: [(String, String)]) {
        self.pairs = pairs.map { (name: $0.0, value: $0.1) }
    }

    /// Parses a raw query string such as `a=1&b=x+y%20z` (without the leading `?`).
    ///
    /// Follows `application/x-www-form-urlencoded` parsing: pairs split on `&`, empty pieces skipped, the
    /// first `=` splits name from value (no `=` means an empty value), `+` is a space, and percent escapes are
    /// decoded leniently (see `PercentDecoding`): invalid escapes stay literal, invalid UTF-8 becomes U+FFFD.
    public init(parsing query: some StringProtocol) {
        self.pairs = []
        for piece in query.utf8.split(separator: UInt8(ascii: "&")) {
            let name: String, value: String
            if let equals = piece.firstIndex(of: UInt8(ascii: "=")) {
                name = Self.decode(piece[piece.startIndex..<equals])
                value = Self.decode(piece[piece.index(after: equals)...])
            } else {
                name = Self.decode(piece)
                value = ""
            }
            self.pairs.append((name: name, value: value))
        }
    }

    private static func decode(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: PercentDecoding.decodeBytes(bytes, plusAsSpace: true), as: UTF8.self)
    }

    /// Number of pairs.
    public var count: Int { self.pairs.count }

    /// Whether there are no pairs.
    public var isEmpty: Bool { self.pairs.isEmpty }

    /// The first value for `name` (names are case-sensitive), or nil.
    public subscript(name: String) -> String? {
        self.pairs.first { $0.name == name }?.value
    }

    /// Every value for `name`, in order.
    public func values(_ name: String) -> [String] {
        self.pairs.filter { $0.name == name }.map(\.value)
    }

    /// Whether `name` appears at all (even with an empty value).
    public func contains(_ name: String) -> Bool {
        self.pairs.contains { $0.name == name }
    }

    /// The first value for `name` as an integer, or nil when absent or not a number.
    public func int(_ name: String) -> Int? {
        self[name].flatMap { Int($0) }
    }

    /// The first value for `name` as a boolean: `1`, `true`, `yes`, `on` are true; `0`, `false`, `no`, `off`
    /// are false; anything else (or absence) is nil.
    public func bool(_ name: String) -> Bool? {
        guard let value = self[name]?.lowercased() else { return nil }
        switch value {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: return nil
        }
    }

    /// The last value per name, for callers that want a plain dictionary.
    public var dictionary: [String: String] {
        var result: [String: String] = [:]
        for pair in self.pairs { result[pair.name] = pair.value }
        return result
    }

    /// Appends a pair.
    public mutating func append(_ name: String, _ value: String) {
        self.pairs.append((name: name, value: value))
    }

    /// Serializes back to `application/x-www-form-urlencoded` (space as `+`).
    public var encoded: String {
        self.pairs.map { PercentEncoding.encodeFormComponent($0.name) + "=" + PercentEncoding.encodeFormComponent($0.value) }
            .joined(separator: "&")
    }

    /// Iterates the pairs in order.
    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        self.pairs.makeIterator()
    }

    /// Same pairs in the same order.
    public static func == (lhs: QueryParameters, rhs: QueryParameters) -> Bool {
        lhs.pairs.elementsEqual(rhs.pairs) { $0.name == $1.name && $0.value == $1.value }
    }
}
