import EngineIO
import Transport
/// Compact JSON output byte-compatible with JavaScript's `JSON.stringify`.
///
/// - Numbers print as JS prints them (`1`, `1.5`, `1e+21`, `1e-7`); `int`
///   values print exactly, even beyond 2^53.
/// - Strings escape only `"`, `\` and U+0000–U+001F (`\b \t \n \f \r` short
///   forms, others as lowercase `\u00XX`); everything else is raw UTF-8.
/// - Object keys are written in their stored order.
/// - `binary` values have no JSON form; outside Socket.IO packets (where the
///   packet encoder turns them into attachment placeholders) they are written
///   as base64 strings, which is what `JSONDecoder` expects for `Data`.
public enum JSONSerializer {
    /// Serializes to a new byte array.
    public static func serialize(_ value: JSONValue) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(64)
        serialize(value, into: &output)
        return output
    }

    /// Appends the serialization to `output` (lets callers build frames without copies).
    public static func serialize(_ value: JSONValue, into output: inout [UInt8]) {
        var writer = JSONWriter(output: output, attachments: nil)
        output = []  // hand the storage to the writer so appends stay in place
        writer.write(value)
        output = writer.output
    }

    /// Serializes to a `String`.
    public static func string(_ value: JSONValue) -> String {
        String(decoding: serialize(value), as: UTF8.self)
    }

    /// Appends `string` as a quoted, escaped JSON string.
    public static func appendQuoted(_ string: String, into output: inout [UInt8]) {
        JSONWriter.appendQuoted(string, to: &output)
    }

    /// Serializes while replacing each `binary` value with the Socket.IO
    /// placeholder `{"_placeholder":true,"num":N}`, numbering depth-first in
    /// output order (the order the reference `deconstructPacket` uses), and
    /// collecting the bytes into `attachments`.
    static func serializeExtractingBinary(
        _ value: JSONValue,
        into output: inout [UInt8],
        attachments: inout [[UInt8]]
    ) {
        var writer = JSONWriter(output: output, attachments: attachments)
        output = []
        attachments = []
        writer.write(value)
        output = writer.output
        attachments = writer.attachments ?? []
    }
}

/// The recursive writer behind ``JSONSerializer``.
struct JSONWriter {
    var output: [UInt8]
    /// When non-nil, binary values become placeholders and are collected here.
    var attachments: [[UInt8]]?

    mutating func write(_ value: JSONValue) {
        switch value {
        case .null:
            output.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case let .bool(b):
            if b {
                output.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
            } else {
                output.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
            }
        case let .int(i):
            JSONNumberFormatting.appendInteger(i, to: &output)
        case let .double(d):
            JSONNumberFormatting.appendDouble(d, to: &output)
        case let .string(s):
            Self.appendQuoted(s, to: &output)
        case let .array(elements):
            output.append(0x5B)
            var first = true
            for element in elements {
                if !first { output.append(0x2C) }
                first = false
                write(element)
            }
            output.append(0x5D)
        case let .object(object):
            output.append(0x7B)
            var first = true
            for (key, member) in object.entries {
                if !first { output.append(0x2C) }
                first = false
                Self.appendQuoted(key, to: &output)
                output.append(0x3A)
                write(member)
            }
            output.append(0x7D)
        case let .binary(bytes):
            if attachments != nil {
                let num = attachments?.count ?? 0
                attachments?.append(bytes)
                // {"_placeholder":true,"num":
                output.append(contentsOf: Self.placeholderPrefix)
                JSONNumberFormatting.appendInteger(Int64(num), to: &output)
                output.append(0x7D)
            } else {
                output.append(0x22)
                output.append(contentsOf: Base64.encode(bytes))
                output.append(0x22)
            }
        }
    }

    private static let placeholderPrefix: [UInt8] = Array(#"{"_placeholder":true,"num":"#.utf8)

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends a quoted string, escaping exactly what `JSON.stringify` escapes.
    static func appendQuoted(_ string: String, to output: inout [UInt8]) {
        output.append(0x22)
        var string = string
        string.withUTF8 { bytes in
            var runStart = 0
            for i in 0..<bytes.count {
                let byte = bytes[i]
                if byte >= 0x20, byte != 0x22, byte != 0x5C { continue }
                if runStart < i {
                    output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
                }
                runStart = i + 1
                output.append(0x5C)
                switch byte {
                case 0x22: output.append(0x22)
                case 0x5C: output.append(0x5C)
                case 0x08: output.append(0x62)
                case 0x09: output.append(0x74)
                case 0x0A: output.append(0x6E)
                case 0x0C: output.append(0x66)
                case 0x0D: output.append(0x72)
                default:
                    output.append(contentsOf: [0x75, 0x30, 0x30])
                    output.append(hexDigits[Int(byte >> 4)])
                    output.append(hexDigits[Int(byte & 0xF)])
                }
            }
            if runStart < bytes.count {
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count]))
            }
        }
        output.append(0x22)
    }
}
