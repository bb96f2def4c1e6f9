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
        let utf8 = query.utf8
        self.pairs = utf8.withContiguousStorageIfAvailable { Self.parsePairs($0) }
            ?? Array(utf8).withUnsafeBufferPointer { Self.parsePairs($0) }
    }

    /// Parses bytes that are valid UTF-8 (see `URLEncodedForm.parse`).
    init(parsingValidUTF8 bytes: UnsafeBufferPointer<UInt8>) {
        self.pairs = Self.parsePairs(bytes)
    }

    /// Parses bytes that are valid UTF-8 (a String's, or checked by the caller). One pass over
    /// the buffer with no per-piece arrays; a component without `%` or `+` becomes its string directly.
    private static func parsePairs(_ bytes: UnsafeBufferPointer<UInt8>) -> [(name: String, value: String)] {
        var pairs: [(name: String, value: String)] = []
        var start = 0
        while start < bytes.count {
            var end = start
            var equals: Int?
            while end < bytes.count, bytes[end] != UInt8(ascii: "&") {
                if equals == nil, bytes[end] == UInt8(ascii: "=") { equals = end }
                end += 1
            }
            if end > start {
                if let equals {
                    pairs.append((name: Self.decode(bytes, start..<equals), value: Self.decode(bytes, equals + 1..<end)))
                } else {
                    pairs.append((name: Self.decode(bytes, start..<end), value: ""))
                }
            }
            start = end + 1
        }
        return pairs
    }

    private static func decode(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        let component = UnsafeBufferPointer(rebasing: bytes[range])
        if !component.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) {
            return String(decoding: component, as: UTF8.self)
        }
        return String(decoding: PercentDecoding.decodeBytes(component, plusAsSpace: true), as: UTF8.self)
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
