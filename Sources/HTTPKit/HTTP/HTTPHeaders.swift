/// An ordered list of HTTP header fields with case-insensitive lookup.
///
/// Order and duplicates are kept as received, because some fields (Set-Cookie) repeat. Names and values are
/// kept as bytes in one buffer, with each field's known name (`HTTPHeaderName`) recognised once when it is
/// stored: parsing a request makes no `String` per field, and a lookup compares one byte per field. Strings
/// are made only for the values (or fields) a caller asks for.
public struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    /// Where one field's name and value are in `bytes`: the value follows the name, after `gap` bytes (a
    /// parsed field is copied from its line in one piece, colon and spaces included).
    @usableFromInline struct Entry: Sendable {
        @usableFromInline var start: UInt32
        @usableFromInline var nameLength: UInt32
        @usableFromInline var valueLength: UInt32
        @usableFromInline var name: HTTPHeaderName
        /// In the padding after `name`: the entry stays 16 bytes.
        @usableFromInline var gap: UInt16 = 0
        @inlinable var nameEnd: Int { Int(self.start) + Int(self.nameLength) }
        @inlinable var valueStart: Int { self.nameEnd + Int(self.gap) }
    }

    // Usable from inline code for `forEachField`, which other modules call once per field of each request.
    @usableFromInline private(set) var bytes: [UInt8] = []
    @usableFromInline private(set) var entries: [Entry] = []

    /// No headers.
    public init() {}

    /// These fields, in this order.
    public init(_ fields: [(String, String)]) {
        for (name, value) in fields { self.add(name, value) }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        for (name, value) in elements { self.add(name, value) }
    }

    /// The fields as strings, in order (made on each call: prefer the subscript for one value).
    public var fields: [(name: String, value: String)] { self.entries.map { self.field($0) } }

    /// The number of fields (repeated names count each time).
    public var count: Int { self.entries.count }

    /// Makes room for `count` fields (a parser knows requests usually carry a handful).
    public mutating func reserveCapacity(_ count: Int) {
        self.entries.reserveCapacity(count)
        self.bytes.reserveCapacity(count * 32)
    }

    /// Empties the fields and keeps the storage when nothing else shares it (a parser reuses it for the
    /// next request); shared storage is replaced by new storage of the same size.
    mutating func removeAllKeepingCapacity() {
        self.bytes.removeAll(keepingCapacity: true)
        self.entries.removeAll(keepingCapacity: true)
    }

    /// Bytes and fields the storage holds without growing.
    var capacity: (bytes: Int, fields: Int) { (self.bytes.capacity, self.entries.capacity) }

    /// A copy whose storage holds exactly its fields, for heads kept as long as a connection lives (a
    /// parser reserves room for a typical request).
    public func compacted() -> HTTPHeaders {
        var copy = HTTPHeaders()
        copy.bytes = self.bytes.withUnsafeBufferPointer { Self.exactCopy($0) }
        copy.entries = self.entries.withUnsafeBufferPointer { Self.exactCopy($0) }
        return copy
    }

    private static func exactCopy<T>(_ source: UnsafeBufferPointer<T>) -> [T] {
        var copy: [T] = []
        copy.reserveCapacity(source.count)
        copy.append(contentsOf: source)
        return copy
    }

    /// The first value of `name`, compared without regard to ASCII case.
    public subscript(name: String) -> String? {
        guard let index = self.firstIndex(of: name) else { return nil }
        return self.value(self.entries[index])
    }

    /// The first value of a known header.
    public subscript(name: HTTPHeaderName) -> String? {
        guard name != .other, let entry = self.entries.first(where: { $0.name == name }) else { return nil }
        return self.value(entry)
    }

    /// Every value of `name`, in order.
    public func values(_ name: String) -> [String] {
        var values: [String] = []
        self.forEachEntry(named: name) { values.append(self.value($0)) }
        return values
    }

    /// Whether a field called `name` (any case) is present.
    public func contains(_ name: String) -> Bool { self.firstIndex(of: name) != nil }

    /// Adds a field, keeping any existing ones of the same name.
    public mutating func add(_ name: String, _ value: String) {
        var name = name, value = value
        name.withUTF8 { n in value.withUTF8 { v in self.add(name: n, value: v) } }
    }

    /// Adds a field from bytes (no strings).
    mutating func add(name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) {
        let start = self.bytes.count
        self.bytes.append(contentsOf: name)
        self.bytes.append(contentsOf: value)
        self.entries.append(Entry(start: UInt32(truncatingIfNeeded: start), nameLength: UInt32(name.count),
                                  valueLength: UInt32(value.count), name: HTTPHeaderName.recognise(name)))
    }

    /// Adds the field a request line holds: `line[name]` and `line[value]`, the name first. The line up to
    /// the value's end is copied in one piece (one append per field instead of two, about 90 instructions
    /// each); a gap between name and value too long for an entry falls back to copying them apart.
    mutating func add(line: UnsafeBufferPointer<UInt8>, name: Range<Int>, value: Range<Int>) {
        let gap = value.lowerBound - name.upperBound
        guard name.lowerBound == 0, gap >= 0, gap <= Int(UInt16.max) else {
            self.add(name: UnsafeBufferPointer(rebasing: line[name]), value: UnsafeBufferPointer(rebasing: line[value]))
            return
        }
        let start = self.bytes.count
        self.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: line[0..<value.upperBound]))
        self.entries.append(Entry(start: UInt32(truncatingIfNeeded: start), nameLength: UInt32(name.count),
                                  valueLength: UInt32(value.count),
                                  name: HTTPHeaderName.recognise(UnsafeBufferPointer(rebasing: line[name])),
                                  gap: UInt16(gap)))
    }

    /// Replaces every field of `name` by one with `value`.
    public mutating func set(_ name: String, _ value: String) {
        self.remove(name)
        self.add(name, value)
    }

    /// Removes every field called `name` (any case).
    public mutating func remove(_ name: String) {
        guard self.contains(name) else { return }
        let kept = self.fields.filter { !$0.name.asciiCaseInsensitiveEquals(name) }
        self = HTTPHeaders()
        for field in kept { self.add(field.name, field.value) }
    }

    /// True when a comma-separated field such as `Connection` lists `token` (case-insensitive).
    public func hasToken(_ token: String, in name: String) -> Bool {
        var token = token
        return token.withUTF8 { t in
            var found = false
            self.forEachEntry(named: name) { entry in
                if !found {
                    found = self.withValueBytes(entry) { ASCIICase.listContains($0, token: t) }
                }
            }
            return found
        }
    }

    /// `hasToken(_:in:)` for a known header (no name to recognise).
    public func hasToken(_ token: String, in name: HTTPHeaderName) -> Bool {
        var token = token
        return token.withUTF8 { t in self.anyValue(of: name) { ASCIICase.listContains($0, token: t) } }
    }

    /// Every value of a known header joined with `, ` (one list, as RFC 9110 §5.3 allows), or nil when absent.
    public func combinedValue(_ name: HTTPHeaderName) -> String? {
        var combined: String?
        for entry in self.entries where name != .other && entry.name == name {
            let value = self.value(entry)
            combined = combined.map { $0 + ", " + value } ?? value
        }
        return combined
    }

    /// Whether a known header is present.
    public func contains(_ name: HTTPHeaderName) -> Bool {
        name != .other && self.entries.contains { $0.name == name }
    }

    public func makeIterator() -> Iterator {
        Iterator(headers: self)
    }

    /// Walks the fields as strings, made one at a time.
    public struct Iterator: IteratorProtocol {
        let headers: HTTPHeaders
        var index = 0

        public mutating func next() -> (name: String, value: String)? {
            guard self.index < self.headers.entries.count else { return nil }
            defer { self.index += 1 }
            return self.headers.field(self.headers.entries[self.index])
        }
    }

    // MARK: - Bytes

    /// The bytes of all names and values together, and the longest name or value, read from the field table
    /// alone (sizing a copy of the fields costs no pass over them).
    package var fieldTextSize: (total: Int, longest: Int) {
        var total = 0, longest = 0
        for entry in self.entries {
            total += Int(entry.nameLength) + Int(entry.valueLength)
            longest = Swift.max(longest, Int(entry.nameLength), Int(entry.valueLength))
        }
        return (total, longest)
    }

    /// Calls `body` with each field's name, value and known name, without making strings. Inlinable: a call
    /// of `body` per field through a closure cost another module (a session's packed handshake) about 500
    /// instructions per request.
    @inlinable
    public func forEachField(_ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>, HTTPHeaderName) -> Void) {
        self.bytes.withUnsafeBufferPointer { all in
            for entry in self.entries {
                let start = Int(entry.start), valueStart = entry.valueStart
                body(UnsafeBufferPointer(rebasing: all[start..<entry.nameEnd]),
                     UnsafeBufferPointer(rebasing: all[valueStart..<valueStart + Int(entry.valueLength)]), entry.name)
            }
        }
    }

    private func withValueBytes<R>(_ entry: Entry, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        self.bytes.withUnsafeBufferPointer { all in
            body(UnsafeBufferPointer(rebasing: all[entry.valueStart..<entry.valueStart + Int(entry.valueLength)]))
        }
    }

    private func value(_ entry: Entry) -> String {
        self.withValueBytes(entry) { String(decoding: $0, as: UTF8.self) }
    }

    private func field(_ entry: Entry) -> (name: String, value: String) {
        let start = Int(entry.start)
        let name = self.bytes.withUnsafeBufferPointer { all in
            String(decoding: UnsafeBufferPointer(rebasing: all[start..<entry.nameEnd]), as: UTF8.self)
        }
        return (name: name, value: self.value(entry))
    }

    /// Whether `entry` is called `name` (given as its known name and its bytes).
    private func matches(_ entry: Entry, _ known: HTTPHeaderName, _ name: UnsafeBufferPointer<UInt8>) -> Bool {
        if known != .other { return entry.name == known }
        guard entry.name == .other, Int(entry.nameLength) == name.count else { return false }
        return self.bytes.withUnsafeBufferPointer { all in
            ASCIICase.equal(UnsafeBufferPointer(rebasing: all[Int(entry.start)..<entry.nameEnd]), name)
        }
    }

    private func firstIndex(of name: String) -> Int? {
        var name = name
        return name.withUTF8 { n in
            let known = HTTPHeaderName.recognise(n)
            return self.entries.firstIndex { self.matches($0, known, n) }
        }
    }

    private func forEachEntry(named name: String, _ body: (Entry) -> Void) {
        var name = name
        name.withUTF8 { n in
            let known = HTTPHeaderName.recognise(n)
            for entry in self.entries where self.matches(entry, known, n) { body(entry) }
        }
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

    /// `listContains` for a token spelled in the code (lower case): no String to open.
    static func listContains(_ list: UnsafeBufferPointer<UInt8>, _ token: StaticString) -> Bool {
        self.listContains(list, token: UnsafeBufferPointer(start: token.utf8Start, count: token.utf8CodeUnitCount))
    }

    /// `listContains` over strings.
    static func listContains(_ list: String, token: String) -> Bool {
        var list = list, token = token
        return list.withUTF8 { l in token.withUTF8 { t in self.listContains(l, token: t) } }
    }

    /// Whether the comma-separated `list` has an element equal to `token` (ASCII case ignored, spaces and
    /// tabs around elements ignored). Scans the bytes in place: it runs for every request (`Connection`).
    static func listContains(_ list: UnsafeBufferPointer<UInt8>, token: UnsafeBufferPointer<UInt8>) -> Bool {
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
