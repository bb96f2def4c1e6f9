/// Finding, checking and filling `{"_placeholder":true,"num":N}` objects.
///
/// Replacing binary values with placeholders happens while serialising (see
/// `JSONSerializer.serializeExtractingBinary`), so only counting and the
/// receive side live here.
enum SocketBinaryPlaceholders {
    /// Number of `binary` values in `value` (the attachments it will need).
    static func binaryCount(in value: JSONValue) -> Int {
        switch value {
        case .binary:
            return 1
        case let .array(elements):
            var total = 0
            for element in elements { total += binaryCount(in: element) }
            return total
        case let .object(object):
            var total = 0
            for entry in object.entries { total += binaryCount(in: entry.value) }
            return total
        default:
            return 0
        }
    }

    /// Whether `object` is a placeholder. Like the reference decoder, the
    /// marker is `_placeholder` being exactly `true`; other keys are ignored.
    private static func isPlaceholder(_ object: JSONObject) -> Bool {
        if case .bool(true)? = object["_placeholder"] { return true }
        return false
    }

    /// The attachment index of a placeholder, if it is an integer in range.
    private static func placeholderIndex(_ object: JSONObject, attachmentCount: Int) -> Int? {
        guard let num = object["num"]?.intValue, num >= 0, num < attachmentCount else { return nil }
        return num
    }

    /// Checks every placeholder in `value` against the announced count, so a
    /// bad packet fails as soon as its text arrives rather than after its buffers.
    static func validate(_ value: JSONValue, attachmentCount: Int) throws(SocketProtocolError) {
        switch value {
        case let .array(elements):
            for element in elements {
                try validate(element, attachmentCount: attachmentCount)
            }
        case let .object(object):
            if isPlaceholder(object) {
                guard placeholderIndex(object, attachmentCount: attachmentCount) != nil else {
                    throw .invalidPlaceholder
                }
                return
            }
            for entry in object.entries {
                try validate(entry.value, attachmentCount: attachmentCount)
            }
        default:
            return
        }
    }

    /// Replaces every placeholder with its attachment. `value` must have passed
    /// ``validate(_:attachmentCount:)`` with `buffers.count`; an index that is
    /// somehow out of range still fails safely.
    static func fill(_ value: JSONValue, with buffers: [[UInt8]]) throws(SocketProtocolError) -> JSONValue {
        switch value {
        case let .array(elements):
            var filled: [JSONValue] = []
            filled.reserveCapacity(elements.count)
            for element in elements {
                filled.append(try fill(element, with: buffers))
            }
            return .array(filled)
        case let .object(object):
            if isPlaceholder(object) {
                guard let index = placeholderIndex(object, attachmentCount: buffers.count) else {
                    throw .invalidPlaceholder
                }
                return .binary(buffers[index])
            }
            var entries: [(key: String, value: JSONValue)] = []
            entries.reserveCapacity(object.count)
            for entry in object.entries {
                entries.append((key: entry.key, value: try fill(entry.value, with: buffers)))
            }
            return .object(JSONObject(uniqueEntries: entries))
        default:
            return value
        }
    }
}
