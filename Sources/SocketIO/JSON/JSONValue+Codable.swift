import Foundation

// Bridges between JSONValue and Codable types. Goes through Foundation's
// JSONEncoder/JSONDecoder and our own text form: simple and correct, and these
// conversions sit at the application edge, not on the packet hot path.

/// Errors from the Codable bridge.
public enum JSONValueCodingError: Error, Sendable, Hashable {
    /// JSONEncoder produced text our parser rejected (should not happen).
    case unparsableEncoderOutput(JSONParseError)
}

extension JSONValue {
    /// Converts any `Encodable` value to JSON using `JSONEncoder`.
    /// `Data` becomes a base64 string (JSONEncoder's default), not `.binary`.
    public init(encoding value: some Encodable, encoder: JSONEncoder = JSONEncoder()) throws {
        let data = try encoder.encode(value)
        do {
            self = try JSONParser.parse([UInt8](data))
        } catch {
            throw JSONValueCodingError.unparsableEncoderOutput(error)
        }
    }

    /// Decodes a `Decodable` type from this value using `JSONDecoder`.
    /// `binary` values are presented as base64 strings, so `Data` fields decode.
    public func decode<T: Decodable>(_ type: T.Type = T.self, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try decoder.decode(T.self, from: Data(JSONSerializer.serialize(self)))
    }
}

/// A coding key for arbitrary object member names.
private struct JSONValueCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    init?(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

extension JSONValue: Codable {
    /// Decodes any JSON value. Key order of objects is whatever the decoder
    /// reports (Foundation's is unordered); parse text with ``JSONParser`` to keep it.
    public init(from decoder: any Decoder) throws {
        if let container = try? decoder.singleValueContainer() {
            if container.decodeNil() {
                self = .null
                return
            }
            // Bool first: Foundation will not read a number as Bool or vice versa.
            if let b = try? container.decode(Bool.self) {
                self = .bool(b)
                return
            }
            if let i = try? container.decode(Int64.self) {
                self = .int(i)
                return
            }
            if let d = try? container.decode(Double.self) {
                self = .double(d)
                return
            }
            if let s = try? container.decode(String.self) {
                self = .string(s)
                return
            }
        }
        if var unkeyed = try? decoder.unkeyedContainer() {
            var elements: [JSONValue] = []
            while !unkeyed.isAtEnd {
                elements.append(try unkeyed.decode(JSONValue.self))
            }
            self = .array(elements)
            return
        }
        let keyed = try decoder.container(keyedBy: JSONValueCodingKey.self)
        var object = JSONObject()
        for key in keyed.allKeys {
            object[key.stringValue] = try keyed.decode(JSONValue.self, forKey: key)
        }
        self = .object(object)
    }

    /// Encodes the value; objects keep their order as far as the encoder does,
    /// and `binary` is encoded as `Data` (the encoder's data strategy applies).
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case let .bool(b):
            var container = encoder.singleValueContainer()
            try container.encode(b)
        case let .int(i):
            var container = encoder.singleValueContainer()
            try container.encode(i)
        case let .double(d):
            var container = encoder.singleValueContainer()
            try container.encode(d)
        case let .string(s):
            var container = encoder.singleValueContainer()
            try container.encode(s)
        case let .binary(bytes):
            var container = encoder.singleValueContainer()
            try container.encode(Data(bytes))
        case let .array(elements):
            var container = encoder.unkeyedContainer()
            for element in elements {
                try container.encode(element)
            }
        case let .object(object):
            var container = encoder.container(keyedBy: JSONValueCodingKey.self)
            for (key, member) in object.entries {
                try container.encode(member, forKey: JSONValueCodingKey(stringValue: key))
            }
        }
    }
}

extension JSONObject: Codable {
    /// Decodes a JSON object (see `JSONValue.init(from:)`).
    public init(from decoder: any Decoder) throws {
        guard case .object(let object) = try JSONValue(from: decoder) else {
            throw DecodingError.typeMismatch(JSONObject.self, .init(codingPath: decoder.codingPath, debugDescription: "not an object"))
        }
        self = object
    }

    /// Encodes the object as `JSONValue.object` does.
    public func encode(to encoder: any Encoder) throws {
        try JSONValue.object(self).encode(to: encoder)
    }
}
