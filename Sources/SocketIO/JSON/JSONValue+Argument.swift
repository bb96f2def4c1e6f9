import Foundation

extension JSONValue {
    /// Converts one event argument: strings, numbers, booleans, `Data` (sent as binary), `JSONValue`, and
    /// arrays, `[String: …]` dictionaries and optionals of them are converted directly; any other
    /// `Encodable` goes through `JSONEncoder` with sorted keys (its `Data` fields then become base64 strings).
    /// Nil when the encoder fails (a non-finite `Double`, for one).
    public init?(argument value: some Encodable) {
        if let direct = value as? any JSONArgumentConvertible {
            guard let converted = direct.jsonArgument else { return nil }
            self = converted
            return
        }
        // Sorted keys: the same value always gives the same text (JSONEncoder's own order varies between runs).
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let encoded = try? JSONValue(encoding: value, encoder: encoder) else { return nil }
        self = encoded
    }

    /// Converts every argument of a pack; nil when one does not convert.
    static func arguments<each T: Encodable>(_ values: repeat each T) -> [JSONValue]? {
        var converted: [JSONValue] = []
        for value in repeat each values {
            guard let json = JSONValue(argument: value) else { return nil }
            converted.append(json)
        }
        return converted
    }

    /// Public twin of `arguments(_:)` for the client module.
    public static func convertingArguments<each T: Encodable>(_ values: repeat each T) -> [JSONValue]? {
        self.arguments(repeat each values)
    }
}

/// Values that convert to a `JSONValue` without `JSONEncoder` (nil: not representable).
protocol JSONArgumentConvertible {
    var jsonArgument: JSONValue? { get }
}

extension JSONValue: JSONArgumentConvertible {
    var jsonArgument: JSONValue? { self }
}

extension JSONObject: JSONArgumentConvertible {
    var jsonArgument: JSONValue? { .object(self) }
}

extension String: JSONArgumentConvertible {
    var jsonArgument: JSONValue? { .string(self) }
}

extension Substring: JSONArgumentConvertible {
    var jsonArgument: JSONValue? { .string(String(self)) }
}

extension Bool: JSONArgumentConvertible {
    var jsonArgument: JSONValue? { .bool(self) }
}

extension Int: JSONArgumentConvertible {
    var jsonArgument: JSONValue? { .int(Int64(self)) }
}

extension Int64: JSONArgumentConvertible {
    var jsonArgument: JSONValue? { .int(self) }
}

extension Int32: JSONArgumentConvertible {
    var jsonArgument: JSONValue? { .int(Int64(self)) }
}

extension UInt: JSONArgumentConvertible {
    var jsonArgument: JSONValue? { Int64(exactly: self).map { .int($0) } ?? .double(Double(self)) }
}

extension Double: JSONArgumentConvertible {
    var jsonArgument: JSONValue? { self.isFinite ? .double(self) : nil }
}

extension Float: JSONArgumentConvertible {
    var jsonArgument: JSONValue? { self.isFinite ? .double(Double(self)) : nil }
}

extension Data: JSONArgumentConvertible {
    var jsonArgument: JSONValue? { .binary([UInt8](self)) }
}

extension Optional: JSONArgumentConvertible where Wrapped: Encodable {
    var jsonArgument: JSONValue? {
        guard let self else { return .null }
        return JSONValue(argument: self)
    }
}

extension Array: JSONArgumentConvertible where Element: Encodable {
    var jsonArgument: JSONValue? {
        var values: [JSONValue] = []
        values.reserveCapacity(self.count)
        for element in self {
            guard let value = JSONValue(argument: element) else { return nil }
            values.append(value)
        }
        return .array(values)
    }
}

extension Dictionary: JSONArgumentConvertible where Key == String, Value: Encodable {
    var jsonArgument: JSONValue? {
        var object = JSONObject()
        // Sorted keys: the same dictionary always gives the same text.
        for key in self.keys.sorted() {
            guard let value = self[key], let json = JSONValue(argument: value) else { return nil }
            object[key] = json
        }
        return .object(object)
    }
}

/// An event argument that could not be converted to JSON (a non-finite number, an `Encodable` whose
/// `encode(to:)` threw).
public struct SocketArgumentError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Creates the error.
    public init() {}

    /// The message.
    public var description: String { "an event argument could not be encoded as JSON" }
}
