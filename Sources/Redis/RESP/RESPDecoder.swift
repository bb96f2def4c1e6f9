import Transport
import Glibc

/// An incremental RESP2/RESP3 decoder: feed it whatever bytes arrived, get back each complete value.
///
/// Elements of an aggregate that arrived completely are consumed at once and kept inside the decoder, so a
/// large reply delivered over many reads is parsed once, not again from its start on every read. An element
/// that is cut off (a half line, a half bulk string) is left unconsumed until the rest arrives. Values are
/// decoded straight from the caller's bytes: only the values themselves are copied out.
///
/// Everything is bounded (`Limits`): absurd lengths and counts, deep nesting and lines without an end are
/// refused with a `RESPDecodingError`, before anything is allocated for them.
public struct RESPDecoder: Sendable {
    /// Bounds on what the decoder accepts.
    public struct Limits: Sendable, Hashable {
        /// The longest bulk string (Redis's own `proto-max-bulk-len` default: 512 MB).
        public var maxBulkLength: Int64 = 512 * 1024 * 1024
        /// The most elements in one array, set or push, or pairs in one map.
        public var maxAggregateCount: Int64 = 16 * 1024 * 1024
        /// How deeply aggregates may nest.
        public var maxDepth = 64
        /// The longest header or simple line (simple strings, errors, numbers).
        public var maxLineLength = 64 * 1024

        /// The defaults above.
        public init() {}
    }

    private enum Kind: Sendable { case array, set, push, map, attribute }

    /// An aggregate whose elements are still arriving.
    private struct Frame: Sendable {
        var kind: Kind
        var expected: Int
        var items: [RESPValue]
    }

    /// The bounds in force.
    public var limits: Limits
    private var stack: [Frame] = []

    /// A decoder with `limits`.
    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// True while part of an aggregate was consumed and its rest is awaited.
    public var hasPartialValue: Bool { !self.stack.isEmpty }

    /// Decodes the next complete value from the front of `buffer`, consuming the bytes used. Returns nil when
    /// more bytes are needed. After an error the decoder is reset and the stream must be abandoned.
    public mutating func decode(_ buffer: inout ByteBuffer) throws(RESPDecodingError) -> RESPValue? {
        var consumed = 0
        let result = buffer.withReadableBytes { raw -> Result<RESPValue?, RESPDecodingError> in
            do throws(RESPDecodingError) {
                return .success(try self.decode(raw, consumed: &consumed))
            } catch {
                return .failure(error)
            }
        }
        buffer.moveReaderIndex(forwardBy: consumed)
        return try result.get()
    }

    /// Decodes the next complete value from the front of `bytes`; `consumed` is set to the number of bytes
    /// used (also when nil is returned: elements of an unfinished aggregate are kept in the decoder).
    public mutating func decode(_ bytes: UnsafeRawBufferPointer, consumed: inout Int) throws(RESPDecodingError) -> RESPValue? {
        consumed = 0
        do throws(RESPDecodingError) {
            return try self.decodeValue(bytes, consumed: &consumed)
        } catch {
            self.stack.removeAll()
            throw error
        }
    }

    private mutating func decodeValue(_ bytes: UnsafeRawBufferPointer, consumed: inout Int) throws(RESPDecodingError) -> RESPValue? {
        guard let base = bytes.baseAddress else { return nil }
        let count = bytes.count
        var position = 0
        while true {
            consumed = position
            guard position < count else { return nil }
            let type = base.load(fromByteOffset: position, as: UInt8.self)
            let lineStart = position + 1
            let window = min(count - lineStart, self.limits.maxLineLength + 1)
            guard window > 0, let found = memchr(base + lineStart, 13, window) else {
                if window >= self.limits.maxLineLength + 1 { throw .lineTooLong }
                return nil
            }
            let lineEnd = base.distance(to: UnsafeRawPointer(found))
            guard lineEnd + 1 < count else { return nil }
            guard base.load(fromByteOffset: lineEnd + 1, as: UInt8.self) == 10 else { throw .malformedLine("CR without LF") }
            let line = UnsafeRawBufferPointer(start: base + lineStart, count: lineEnd - lineStart)
            let next = lineEnd + 2

            var value: RESPValue?
            switch type {
            case UInt8(ascii: "+"):
                value = .simpleString(String(decoding: line, as: UTF8.self))
                position = next
            case UInt8(ascii: "-"):
                value = .error(RedisError(message: String(decoding: line, as: UTF8.self)))
                position = next
            case UInt8(ascii: ":"):
                guard let number = Self.parseInteger(line) else { throw .malformedLine("integer") }
                value = .integer(number)
                position = next
            case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
                if line.count == 1 && line[0] == UInt8(ascii: "?") { throw .streamedTypeUnsupported }
                guard let length = Self.parseInteger(line) else { throw .malformedLine("length") }
                if length == -1 && type == UInt8(ascii: "$") {
                    value = .null
                    position = next
                    break
                }
                guard length >= 0 else { throw .invalidLength(length) }
                guard length <= self.limits.maxBulkLength else { throw .bulkTooLong(length) }
                let size = Int(length)
                // Compared by subtraction: a limit raised to anything cannot overflow the sum.
                guard size <= count - next - 2 else { return nil }
                guard base.load(fromByteOffset: next + size, as: UInt8.self) == 13,
                      base.load(fromByteOffset: next + size + 1, as: UInt8.self) == 10 else { throw .missingTerminator }
                let body = UnsafeRawBufferPointer(start: base + next, count: size)
                switch type {
                case UInt8(ascii: "$"):
                    value = .bulkString(Array(body))
                case UInt8(ascii: "!"):
                    value = .error(RedisError(message: String(decoding: body, as: UTF8.self)))
                default:
                    guard size >= 4, body[3] == UInt8(ascii: ":") else { throw .malformedLine("verbatim string") }
                    value = .verbatim(format: String(decoding: body[0..<3], as: UTF8.self), text: Array(body[4...]))
                }
                position = next + size + 2
            case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
                if line.count == 1 && line[0] == UInt8(ascii: "?") { throw .streamedTypeUnsupported }
                guard let length = Self.parseInteger(line) else { throw .malformedLine("count") }
                position = next
                if length == -1 && type == UInt8(ascii: "*") {
                    value = .null
                    break
                }
                guard length >= 0 else { throw .invalidLength(length) }
                guard length <= self.limits.maxAggregateCount else { throw .countTooLarge(length) }
                let kind = Self.kind(of: type)
                guard length > 0 else {
                    // An empty attribute annotates nothing: the value after it is the reply.
                    value = kind == .attribute ? nil : Self.build(kind, [])
                    break
                }
                guard self.stack.count < self.limits.maxDepth else { throw .nestingTooDeep(self.limits.maxDepth) }
                let pairs = kind == .map || kind == .attribute
                let (expected, overflow) = Int(length).multipliedReportingOverflow(by: pairs ? 2 : 1)
                guard !overflow else { throw .countTooLarge(length) }
                var items: [RESPValue] = []
                // Reserve for what is plausible, not for what a count claims: memory follows the bytes received.
                items.reserveCapacity(min(expected, 1024))
                self.stack.append(Frame(kind: kind, expected: expected, items: items))
                continue
            case UInt8(ascii: "_"):
                guard line.isEmpty else { throw .malformedLine("null") }
                value = .null
                position = next
            case UInt8(ascii: ","):
                guard let number = Self.parseDouble(line) else { throw .malformedLine("double") }
                value = .double(number)
                position = next
            case UInt8(ascii: "#"):
                guard line.count == 1, line[0] == UInt8(ascii: "t") || line[0] == UInt8(ascii: "f") else {
                    throw .malformedLine("boolean")
                }
                value = .boolean(line[0] == UInt8(ascii: "t"))
                position = next
            case UInt8(ascii: "("):
                guard Self.isBigNumber(line) else { throw .malformedLine("big number") }
                value = .bigNumber(String(decoding: line, as: UTF8.self))
                position = next
            default:
                throw .unknownType(type)
            }

            // Attach the value to the aggregates it completes; a top-level value is the result.
            while let completed = value {
                guard !self.stack.isEmpty else {
                    consumed = position
                    return completed
                }
                let top = self.stack.count - 1
                self.stack[top].items.append(completed)
                guard self.stack[top].items.count == self.stack[top].expected else { break }
                let frame = self.stack.removeLast()
                // Attributes (RESP3 `|`) annotate the next value; nothing in this client reads them.
                value = frame.kind == .attribute ? nil : Self.build(frame.kind, frame.items)
            }
        }
    }

    private static func kind(of type: UInt8) -> Kind {
        switch type {
        case UInt8(ascii: "~"): return .set
        case UInt8(ascii: ">"): return .push
        case UInt8(ascii: "%"): return .map
        case UInt8(ascii: "|"): return .attribute
        default: return .array
        }
    }

    private static func build(_ kind: Kind, _ items: [RESPValue]) -> RESPValue {
        switch kind {
        case .array, .attribute: return .array(items)
        case .set: return .set(items)
        case .push: return .push(items)
        case .map:
            var pairs: [(RESPValue, RESPValue)] = []
            pairs.reserveCapacity(items.count / 2)
            var index = 0
            while index + 1 < items.count {
                pairs.append((items[index], items[index + 1]))
                index += 2
            }
            return .map(pairs)
        }
    }

    /// A decimal Int64 with an optional sign; nil when empty, not digits, or out of range.
    static func parseInteger(_ line: UnsafeRawBufferPointer) -> Int64? {
        guard !line.isEmpty else { return nil }
        var index = 0
        let negative = line[0] == UInt8(ascii: "-")
        if negative || line[0] == UInt8(ascii: "+") { index = 1 }
        guard index < line.count, line.count - index <= 19 else { return nil }
        var magnitude: UInt64 = 0
        while index < line.count {
            let digit = line[index] &- 48
            guard digit < 10 else { return nil }
            magnitude = magnitude &* 10 &+ UInt64(digit)
            index += 1
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    private static func parseDouble(_ line: UnsafeRawBufferPointer) -> Double? {
        let text = String(decoding: line, as: UTF8.self)
        switch text {
        case "inf", "+inf": return .infinity
        case "-inf": return -.infinity
        case "nan", "-nan": return .nan
        default:
            // Double(String) also takes "infinity" and hex floats; RESP3 sends plain decimals only.
            guard !text.isEmpty, text.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 45 || $0 == 43 || $0 == 101 || $0 == 69 }) else {
                return nil
            }
            return Double(text)
        }
    }

    private static func isBigNumber(_ line: UnsafeRawBufferPointer) -> Bool {
        var digits = line[...]
        if let first = digits.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") { digits = digits.dropFirst() }
        return !digits.isEmpty && digits.allSatisfy { $0 >= 48 && $0 <= 57 }
    }
}
