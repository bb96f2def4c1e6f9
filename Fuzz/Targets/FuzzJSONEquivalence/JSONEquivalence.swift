import SocketIO

/// `value` as JSON text carries it: a number too large for a double (parsed as infinity) is written `null`, as
/// JavaScript's JSON.stringify writes it.
public func asSerialized(_ value: JSONValue) -> JSONValue {
    switch value {
    case .double(let number) where !number.isFinite: return .null
    case .array(let elements): return .array(elements.map(asSerialized))
    case .object(let object): return .object(JSONObject(object.entries.map { ($0.key, asSerialized($0.value)) }))
    default: return value
    }
}

/// Equal as JSON numbers are for a JavaScript peer: an integer and a double match when the double is the integer
/// rounded to 53 bits. A double above 2^53 serializes as integer digits (`1.2345678909056789e17` as
/// `123456780905678900`, as JSON.stringify writes it) and parses back as that exact integer.
public func equivalent(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case let (.int(integer), .double(number)), let (.double(number), .int(integer)): return Double(integer) == number
    case let (.array(x), .array(y)): return x.count == y.count && zip(x, y).allSatisfy(equivalent)
    case let (.object(x), .object(y)):
        return x.count == y.count && x.entries.allSatisfy { entry in y[entry.key].map { equivalent(entry.value, $0) } ?? false }
    default: return a == b
    }
}
