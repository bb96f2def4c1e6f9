/// An ordered list of HTTP header fields with case-insensitive lookup.
///
/// Order and duplicates are kept as received, because some fields (Set-Cookie) repeat.
public struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var fields: [(name: String, value: String)]

    /// No headers.
    public init() { self.fields = [] }

    /// These fields, in this order.
    public init(_ fields: [(String, String)]) {
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.fields = elements.map { (name: $0.0, value: $0.1) }
    }

    /// The number of fields (repeated names count each time).
    public var count: Int { self.fields.count }

    /// Makes room for `count` fields (a parser knows requests usually carry a handful).
    public mutating func reserveCapacity(_ count: Int) {
        self.fields.reserveCapacity(count)
    }

    /// The first value of `name`, compared without regard to ASCII case.
    public subscript(name: String) -> String? {
        for field in self.fields where field.name.asciiCaseInsensitiveEquals(name) {
            return field.value
        }
        return nil
    }

    /// Every value of `name`, in order.
    public func values(_ name: String) -> [String] {
        // One pass, no intermediate array (this runs several times per request).
        var values: [String] = []
        for field in self.fields where field.name.asciiCaseInsensitiveEquals(name) { values.append(field.value) }
        return values
    }

    /// Whether a field called `name` (any case) is present.
    public func contains(_ name: String) -> Bool { self[name] != nil }

    /// Adds a field, keeping any existing ones of the same name.
    public mutating func add(_ name: String, _ value: String) {
        self.fields.append((name: name, value: value))
    }

    /// Replaces every field of `name` by one with `value`.
    public mutating func set(_ name: String, _ value: String) {
        self.remove(name)
        self.fields.append((name: name, value: value))
    }

    /// Removes every field called `name` (any case).
    public mutating func remove(_ name: String) {
        self.fields.removeAll { $0.name.asciiCaseInsensitiveEquals(name) }
    }

    /// True when a comma-separated field such as `Connection` lists `token` (case-insensitive).
    public func hasToken(_ token: String, in name: String) -> Bool {
        for field in self.fields where field.name.asciiCaseInsensitiveEquals(name) {
            if ASCIICase.listContains(field.value, token: token) { return true }
        }
        return false
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        self.fields.makeIterator()
    }
}

extension String {
    /// ASCII-only case-insensitive comparison of two strings: over their contiguous UTF-8 storage when they
    /// have it (native strings do), which is several times cheaper than walking two UTF-8 views in step.
    public func asciiCaseInsensitiveEquals(_ other: String) -> Bool {
        let fast = self.utf8.withContiguousStorageIfAvailable { a in
            other.utf8.withContiguousStorageIfAvailable { b in ASCIICase.equal(a, b) }
        }
        if let fast, let result = fast { return result }
        return ASCIICase.equal(self.utf8, other.utf8)
    }
}

/// ASCII case folding for protocol tokens.
public enum ASCIICase {
    @inline(__always)
    static func lower(_ byte: UInt8) -> UInt8 { (byte >= 65 && byte <= 90) ? byte | 0x20 : byte }

    /// Whether `a` and `b` are equal ignoring ASCII case.
    public static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        for index in 0..<a.count {
            let x = a[index], y = b[index]
            if x != y && self.lower(x) != self.lower(y) { return false }
        }
        return true
    }

    /// Whether the comma-separated `list` has an element equal to `token` (ASCII case ignored, spaces and
    /// tabs around elements ignored). Scans the bytes in place: it runs for every request (`Connection`).
    static func listContains(_ list: String, token: String) -> Bool {
        let fast = list.utf8.withContiguousStorageIfAvailable { l in
            token.utf8.withContiguousStorageIfAvailable { t in self.listContains(l, token: t) }
        }
        if let fast, let result = fast { return result }
        return Array(list.utf8).withUnsafeBufferPointer { l in
            Array(token.utf8).withUnsafeBufferPointer { t in self.listContains(l, token: t) }
        }
    }

    private static func listContains(_ list: UnsafeBufferPointer<UInt8>, token: UnsafeBufferPointer<UInt8>) -> Bool {
        var start = 0
        while start <= list.count {
            var end = start
            while end < list.count && list[end] != 0x2C { end += 1 }
            var lower = start, upper = end
            while lower < upper && (list[lower] == 0x20 || list[lower] == 0x09) { lower += 1 }
            while upper > lower && (list[upper - 1] == 0x20 || list[upper - 1] == 0x09) { upper -= 1 }
            if self.equal(UnsafeBufferPointer(rebasing: list[lower..<upper]), token) { return true }
            start = end + 1
        }
        return false
    }

    static func equal<A: Collection<UInt8>, B: Collection<UInt8>>(_ a: A, _ b: B) -> Bool {
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where x != y && self.lower(x) != self.lower(y) { return false }
        return true
    }
}

extension StringProtocol {
    /// ASCII-only case-insensitive comparison; header names and tokens are ASCII.
    public func asciiCaseInsensitiveEquals(_ other: some StringProtocol) -> Bool {
        let a = self.utf8, b = other.utf8
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where x != y {
            let lx = (x >= 65 && x <= 90) ? x | 0x20 : x
            let ly = (y >= 65 && y <= 90) ? y | 0x20 : y
            if lx != ly { return false }
        }
        return true
    }

    /// The string without leading and trailing spaces and tabs.
    public func trimmingASCIISpaces() -> Substring {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
