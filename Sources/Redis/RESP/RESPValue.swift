/// One RESP value (RESP2, plus the RESP3 types when HELLO 3 was accepted).
public enum RESPValue: Sendable, Hashable {
    /// `+OK`: a short status line.
    case simpleString(String)
    /// `-ERR ...` (and RESP3 blob errors): also thrown or returned as the failure of a command.
    case error(RedisError)
    /// `:42`.
    case integer(Int64)
    /// `$3\r\nfoo`: binary-safe bytes.
    case bulkString([UInt8])
    /// `*2\r\n...`.
    case array([RESPValue])
    /// RESP2 null bulk (`$-1`) or null array (`*-1`), RESP3 null (`_`).
    case null
    /// RESP3 `,3.14` (also `inf`, `-inf`, `nan`).
    case double(Double)
    /// RESP3 `#t` / `#f`.
    case boolean(Bool)
    /// RESP3 `(1234567890123456789012`: the digits as sent.
    case bigNumber(String)
    /// RESP3 `=15\r\ntxt:Some string`: a three-letter format and the text.
    case verbatim(format: String, text: [UInt8])
    /// RESP3 `%`: key-value pairs in the order the server sent them.
    case map([(RESPValue, RESPValue)])
    /// RESP3 `~`.
    case set([RESPValue])
    /// RESP3 `>`: out-of-band data such as pub/sub messages.
    case push([RESPValue])

    /// Structural equality; maps compare pair by pair in order, and NaN equals NaN so that decoded values compare.
    public static func == (lhs: RESPValue, rhs: RESPValue) -> Bool {
        switch (lhs, rhs) {
        case (.simpleString(let a), .simpleString(let b)): return a == b
        case (.error(let a), .error(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.bulkString(let a), .bulkString(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.null, .null): return true
        case (.double(let a), .double(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.boolean(let a), .boolean(let b)): return a == b
        case (.bigNumber(let a), .bigNumber(let b)): return a == b
        case (.verbatim(let f1, let t1), .verbatim(let f2, let t2)): return f1 == f2 && t1 == t2
        case (.map(let a), .map(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case (.set(let a), .set(let b)): return a == b
        case (.push(let a), .push(let b)): return a == b
        default: return false
        }
    }

    /// Hashes consistently with `==`.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .simpleString(let s): hasher.combine(0); hasher.combine(s)
        case .error(let e): hasher.combine(1); hasher.combine(e)
        case .integer(let i): hasher.combine(2); hasher.combine(i)
        case .bulkString(let b): hasher.combine(3); hasher.combine(b)
        case .array(let a): hasher.combine(4); hasher.combine(a)
        case .null: hasher.combine(5)
        case .double(let d): hasher.combine(6); hasher.combine(d.isNaN ? Double.nan.bitPattern : d.bitPattern)
        case .boolean(let b): hasher.combine(7); hasher.combine(b)
        case .bigNumber(let s): hasher.combine(8); hasher.combine(s)
        case .verbatim(let f, let t): hasher.combine(9); hasher.combine(f); hasher.combine(t)
        case .map(let pairs):
            hasher.combine(10)
            hasher.combine(pairs.count)
            for (key, value) in pairs { hasher.combine(key); hasher.combine(value) }
        case .set(let a): hasher.combine(11); hasher.combine(a)
        case .push(let a): hasher.combine(12); hasher.combine(a)
        }
    }
}

extension RESPValue {
    /// The text of a simple string, bulk string or verbatim string (bytes decoded as UTF-8); nil otherwise.
    public var string: String? {
        switch self {
        case .simpleString(let text): return text
        case .bulkString(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .verbatim(_, let text): return String(decoding: text, as: UTF8.self)
        default: return nil
        }
    }

    /// The bytes of a bulk, simple or verbatim string; nil otherwise.
    public var bytes: [UInt8]? {
        switch self {
        case .bulkString(let bytes): return bytes
        case .simpleString(let text): return Array(text.utf8)
        case .verbatim(_, let text): return text
        default: return nil
        }
    }

    /// The value of an integer reply; nil otherwise.
    public var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The elements of an array, set or push; nil otherwise.
    public var elements: [RESPValue]? {
        switch self {
        case .array(let items), .set(let items), .push(let items): return items
        default: return nil
        }
    }

    /// True for a null reply.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}
