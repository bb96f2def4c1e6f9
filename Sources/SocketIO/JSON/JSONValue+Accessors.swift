// Typed read access: handlers mostly want "the string at key x" without a
// switch, and `nil` for a type mismatch keeps hostile input from trapping.

extension JSONValue {
    /// The string, if this is a string.
    public var stringValue: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    /// The number as `Int` if it is integral and fits; doubles such as `2.0` qualify.
    public var intValue: Int? {
        switch self {
        case let .int(i):
            return Int(exactly: i)
        case let .double(d):
            return Int(exactly: d)
        default:
            return nil
        }
    }

    /// The number as `Int64` if it is integral and fits.
    public var int64Value: Int64? {
        switch self {
        case let .int(i):
            return i
        case let .double(d):
            return Int64(exactly: d)
        default:
            return nil
        }
    }

    /// The number as `Double` (integers convert, possibly rounding beyond 2^53).
    public var doubleValue: Double? {
        switch self {
        case let .int(i):
            return Double(i)
        case let .double(d):
            return d
        default:
            return nil
        }
    }

    /// The boolean, if this is `true` or `false`.
    public var boolValue: Bool? {
        if case let .bool(b) = self { return b }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case let .array(a) = self { return a }
        return nil
    }

    /// The object, if this is an object.
    public var objectValue: JSONObject? {
        if case let .object(o) = self { return o }
        return nil
    }

    /// The bytes, if this is a binary attachment.
    public var binaryValue: [UInt8]? {
        if case let .binary(b) = self { return b }
        return nil
    }

    /// Whether this is JSON `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Whether this is a number (`int` or `double`).
    public var isNumber: Bool {
        switch self {
        case .int, .double:
            return true
        default:
            return false
        }
    }

    /// Member lookup; `nil` when this is not an object or lacks the key.
    /// Setting on a non-object is ignored rather than trapping.
    public subscript(key: String) -> JSONValue? {
        get {
            if case let .object(o) = self { return o[key] }
            return nil
        }
        set {
            guard case var .object(o) = self else { return }
            // Drop our reference first so the object's storage stays uniquely owned.
            self = .null
            o[key] = newValue
            self = .object(o)
        }
    }

    /// Element lookup; `nil` when this is not an array or the index is out of range.
    public subscript(index: Int) -> JSONValue? {
        guard case let .array(a) = self, a.indices.contains(index) else { return nil }
        return a[index]
    }

    /// Whether any `binary` value occurs anywhere inside.
    public var containsBinary: Bool {
        switch self {
        case .binary:
            return true
        case let .array(a):
            return a.contains { $0.containsBinary }
        case let .object(o):
            return o.entries.contains { $0.value.containsBinary }
        default:
            return false
        }
    }
}
