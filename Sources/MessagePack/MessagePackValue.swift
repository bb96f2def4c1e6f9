/// One MessagePack value, as notepack.io reads and writes them.
///
/// Integers keep their sign apart from their width: `int` holds every value that fits in `Int64`, `uint`
/// only those above `Int64.max` (the decoder never produces `uint` for smaller ones). Map entries keep
/// their order, because JavaScript peers write and observe keys in insertion order.
public enum MessagePackValue: Sendable, Hashable {
    /// `nil` (0xc0).
    case `nil`
    /// `false` / `true` (0xc2 / 0xc3).
    case bool(Bool)
    /// An integer that fits in `Int64`.
    case int(Int64)
    /// An unsigned integer above `Int64.max` (uint 64).
    case uint(UInt64)
    /// A floating-point number (written as float 64; float 32 is read into it).
    case float(Double)
    /// A UTF-8 string (fixstr, str 8/16/32).
    case string(String)
    /// Raw bytes (bin 8/16/32).
    case binary([UInt8])
    /// An array.
    case array([MessagePackValue])
    /// A map, entries in order.
    case map([MessagePackPair])
    /// An extension value: its application type and payload (fixext, ext 8/16/32).
    case ext(type: Int8, data: [UInt8])
}

/// One entry of a MessagePack map.
public struct MessagePackPair: Sendable, Hashable {
    /// The key (a string in everything Socket.IO sends).
    public var key: MessagePackValue
    /// The value.
    public var value: MessagePackValue

    /// An entry.
    public init(_ key: MessagePackValue, _ value: MessagePackValue) {
        self.key = key
        self.value = value
    }
}

extension MessagePackValue {
    /// A map from string keys, in the order given.
    public static func map(_ entries: KeyValuePairs<String, MessagePackValue>) -> MessagePackValue {
        .map(entries.map { MessagePackPair(.string($0.key), $0.value) })
    }

    /// The value under string `key` when this is a map (the first entry with that key).
    public subscript(key: String) -> MessagePackValue? {
        guard case .map(let entries) = self else { return nil }
        for entry in entries {
            if case .string(let name) = entry.key, name == key { return entry.value }
        }
        return nil
    }

    /// The string, when this is one.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The integer, when this is an integer (or a float with an integral value that fits).
    public var intValue: Int? {
        switch self {
        case .int(let value): return Int(exactly: value)
        case .uint(let value): return Int(exactly: value)
        case .float(let value): return Int(exactly: value)
        default: return nil
        }
    }

    /// The elements, when this is an array.
    public var arrayValue: [MessagePackValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }
}
