/// An insertion-ordered JSON object.
///
/// Key order is kept because JavaScript peers observe it (`JSON.stringify`
/// writes keys in insertion order) and because binary placeholders are
/// numbered in that order. Lookups are linear: Socket.IO payload objects are
/// small, and a linear scan over a contiguous array beats hashing for them.
public struct JSONObject: Sendable {
    /// The key/value pairs in order; keys are unique.
    public private(set) var entries: [(key: String, value: JSONValue)]

    /// An empty object.
    public init() {
        entries = []
    }

    /// Builds an object from pairs; a repeated key keeps its first position
    /// and its last value, which is what `JSON.parse` does.
    public init(_ pairs: some Sequence<(String, JSONValue)>) {
        entries = []
        for (key, value) in pairs {
            self[key] = value
        }
    }

    /// Wraps pairs already known to have unique keys (the parser dedupes itself).
    init(uniqueEntries: [(key: String, value: JSONValue)]) {
        entries = uniqueEntries
    }

    /// Number of keys.
    public var count: Int { entries.count }

    /// Whether the object has no keys.
    public var isEmpty: Bool { entries.isEmpty }

    /// The keys in order.
    public var keys: [String] { entries.map(\.key) }

    /// The values in key order.
    public var values: [JSONValue] { entries.map(\.value) }

    /// Position of `key` in ``entries``, if present.
    public func index(forKey key: String) -> Int? {
        entries.firstIndex { $0.key == key }
    }

    /// Reads a value; setting `nil` removes the key, setting a new key appends it.
    public subscript(key: String) -> JSONValue? {
        get {
            for entry in entries where entry.key == key {
                return entry.value
            }
            return nil
        }
        set {
            if let i = index(forKey: key) {
                if let newValue {
                    entries[i].value = newValue
                } else {
                    entries.remove(at: i)
                }
            } else if let newValue {
                entries.append((key: key, value: newValue))
            }
        }
    }

    /// Removes `key` and returns its former value.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let i = index(forKey: key) else { return nil }
        return entries.remove(at: i).value
    }
}

extension JSONObject: Sequence {
    /// Iterates the key/value pairs in order.
    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
        entries.makeIterator()
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    /// Literal keys keep their written order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }
}

extension JSONObject: Equatable {
    /// Unordered comparison, as JSON objects have no semantic key order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.entries.count == rhs.entries.count else { return false }
        if lhs.entries.count <= 16 {
            for entry in lhs.entries {
                guard let other = rhs[entry.key], other == entry.value else { return false }
            }
            return true
        }
        // Large objects: index once instead of scanning per key (quadratic otherwise).
        var index: [String: JSONValue] = [:]
        index.reserveCapacity(rhs.entries.count)
        for entry in rhs.entries {
            index[entry.key] = entry.value
        }
        for entry in lhs.entries {
            guard let other = index[entry.key], other == entry.value else { return false }
        }
        return true
    }
}

extension JSONObject: Hashable {
    /// Order-independent hash, consistent with the unordered `==`.
    public func hash(into hasher: inout Hasher) {
        var combined = 0
        for entry in entries {
            var entryHasher = Hasher()
            entryHasher.combine(entry.key)
            entryHasher.combine(entry.value)
            combined = combined &+ entryHasher.finalize()
        }
        hasher.combine(entries.count)
        hasher.combine(combined)
    }
}
