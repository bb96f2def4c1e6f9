import MessagePack
import SocketIO

extension MessagePackValue {
    /// The MessagePack form of a JSON value as notepack.io writes the equivalent JavaScript value:
    /// binary as bin, objects as maps in key order, integral numbers as integers.
    public init(_ json: JSONValue) {
        switch json {
        case .null: self = .nil
        case .bool(let flag): self = .bool(flag)
        case .int(let number): self = .int(number)
        case .double(let number): self = .float(number)
        case .string(let text): self = .string(text)
        case .binary(let bytes): self = .binary(bytes)
        case .array(let elements): self = .array(elements.map(MessagePackValue.init))
        case .object(let object):
            self = .map(object.entries.map { MessagePackPair(.string($0.key), MessagePackValue($0.value)) })
        }
    }
}

extension JSONValue {
    /// The JSON value of decoded MessagePack as JavaScript sees it: bin as binary, map keys as strings
    /// (numbers written in decimal), a repeated key keeping its last value; extension values become null.
    public init(_ value: MessagePackValue) {
        switch value {
        case .nil: self = .null
        case .bool(let flag): self = .bool(flag)
        case .int(let number): self = .int(number)
        case .uint(let number): self = .double(Double(number))
        case .float(let number): self = .double(number)
        case .string(let text): self = .string(text)
        case .binary(let bytes): self = .binary(bytes)
        case .array(let elements): self = .array(elements.map(JSONValue.init))
        case .map(let entries):
            self = .object(JSONObject(entries.map { (Self.key($0.key), JSONValue($0.value)) }))
        case .ext: self = .null
        }
    }

    private static func key(_ value: MessagePackValue) -> String {
        switch value {
        case .string(let text): return text
        case .int(let number): return String(number)
        case .uint(let number): return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .nil: return "null"
        default: return JSONSerializer.string(JSONValue(value))
        }
    }
}

/// Reads the payload of a request or response: JSON when it starts with `{`, MessagePack otherwise, as the
/// Node adapter tells them apart.
enum RedisPayload {
    static func decode(_ bytes: [UInt8]) throws(RedisMessageError) -> JSONValue {
        if bytes.first == UInt8(ascii: "{") {
            do {
                return try JSONParser.parse(bytes, maxDepth: 100)
            } catch {
                throw .malformed("JSON: \(error)")
            }
        }
        do {
            return JSONValue(try MessagePackDecoder.decode(bytes))
        } catch {
            throw .malformed("MessagePack: \(error)")
        }
    }

    static func json(_ pairs: [(String, JSONValue)]) -> [UInt8] {
        JSONSerializer.serialize(.object(JSONObject(pairs)))
    }

    static func messagePack(_ pairs: [(String, JSONValue)]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(128)
        self.appendMessagePack(.object(JSONObject(pairs)), to: &output)
        return output
    }

    /// Appends the MessagePack of `json` directly (the bytes of `MessagePackValue(json)`, without building
    /// that tree): broadcasts are encoded on the emitting thread, once each.
    static func appendMessagePack(_ json: JSONValue, to output: inout [UInt8]) {
        switch json {
        case .null: output.append(0xC0)
        case .bool(let flag): output.append(flag ? 0xC3 : 0xC2)
        case .int(let number): MessagePackEncoder.appendInteger(number, to: &output)
        case .double(let number): MessagePackEncoder.appendNumber(number, to: &output)
        case .string(let text): MessagePackEncoder.appendString(text, to: &output)
        case .binary(let bytes):
            MessagePackEncoder.appendBinaryHeader(count: bytes.count, to: &output)
            output.append(contentsOf: bytes)
        case .array(let elements):
            MessagePackEncoder.appendArrayHeader(count: elements.count, to: &output)
            for element in elements { self.appendMessagePack(element, to: &output) }
        case .object(let object):
            MessagePackEncoder.appendMapHeader(count: object.count, to: &output)
            for (key, value) in object.entries {
                MessagePackEncoder.appendString(key, to: &output)
                self.appendMessagePack(value, to: &output)
            }
        }
    }
}
