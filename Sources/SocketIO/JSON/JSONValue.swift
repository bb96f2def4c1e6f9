/// A JSON document as Socket.IO carries it: plain JSON plus binary attachments.
///
/// Integers and fractional numbers are kept apart (`int` / `double`) so that
/// integer values such as `12345678901234` or large ids round-trip exactly,
/// which a single `Double` case could not guarantee beyond 2^53.
///
/// Equality follows JSON semantics rather than the Swift case layout:
/// `.int(1) == .double(1.0)`, and objects compare equal regardless of key order.
/// Use ``JSONSerializer`` when byte-exact output matters.
public enum JSONValue: Sendable {
    /// JSON `null`.
    case null
    /// JSON `true` / `false`.
    case bool(Bool)
    /// A number written without fraction or exponent that fits in 64 bits.
    case int(Int64)
    /// Any other number (fractional, exponent form, or integers beyond Int64).
    case double(Double)
    /// A JSON string.
    case string(String)
    /// A JSON array.
    case array([JSONValue])
    /// A JSON object; keys keep the order in which they were received or inserted.
    case object(JSONObject)
    /// Raw bytes. Socket.IO sends these as separate binary attachments
    /// referenced by `{"_placeholder":true,"num":N}` in the JSON text.
    case binary([UInt8])
}

extension JSONValue: Equatable {
    /// JSON-semantic equality: numbers compare by value across `int`/`double`,
    /// objects compare as unordered key sets.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null):
            return true
        case let (.bool(a), .bool(b)):
            return a == b
        case let (.int(a), .int(b)):
            return a == b
        case let (.double(a), .double(b)):
            return a == b
        case let (.int(a), .double(b)), let (.double(b), .int(a)):
            // Compare exactly: converting a to Double could make distinct values equal.
            guard let exact = Int64(exactly: b) else { return false }
            return exact == a
        case let (.string(a), .string(b)):
            return a == b
        case let (.array(a), .array(b)):
            return a == b
        case let (.object(a), .object(b)):
            return a == b
        case let (.binary(a), .binary(b)):
            return a == b
        default:
            return false
        }
    }
}

extension JSONValue: Hashable {
    /// Hashes consistently with `==`: integral doubles hash like the equal `int`.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null:
            hasher.combine(0 as UInt8)
        case let .bool(b):
            hasher.combine(1 as UInt8)
            hasher.combine(b)
        case let .int(i):
            hasher.combine(2 as UInt8)
            hasher.combine(i)
        case let .double(d):
            if let exact = Int64(exactly: d) {
                hasher.combine(2 as UInt8)
                hasher.combine(exact)
            } else {
                hasher.combine(3 as UInt8)
                hasher.combine(d)
            }
        case let .string(s):
            hasher.combine(4 as UInt8)
            hasher.combine(s)
        case let .array(a):
            hasher.combine(5 as UInt8)
            hasher.combine(a)
        case let .object(o):
            hasher.combine(6 as UInt8)
            hasher.combine(o)
        case let .binary(b):
            hasher.combine(7 as UInt8)
            hasher.combine(b)
        }
    }
}

extension JSONValue: CustomStringConvertible {
    /// The compact JSON text of the value (binary shown as base64 strings).
    public var description: String {
        JSONSerializer.string(self)
    }
}
