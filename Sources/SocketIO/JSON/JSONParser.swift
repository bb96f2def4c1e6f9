/// A strict RFC 8259 parser from UTF-8 bytes to ``JSONValue``.
///
/// Behaves like JavaScript's `JSON.parse` where the two could differ:
/// duplicate keys keep their first position and last value, lone surrogate
/// escapes become U+FFFD (Swift strings cannot hold them), and invalid UTF-8
/// inside strings is repaired to U+FFFD rather than rejected.
/// Parsing is iterative, so hostile nesting cannot overflow the thread stack;
/// `maxDepth` still bounds memory spent on deep structures.
public enum JSONParser {
    /// Default nesting limit for arrays and objects.
    public static let defaultMaxDepth = 512

    /// Parses a complete JSON text.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        try parse(bytes[...], maxDepth: maxDepth)
    }

    /// Parses a complete JSON text held in an array slice.
    public static func parse(_ bytes: ArraySlice<UInt8>, maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError> = bytes.withUnsafeBufferPointer { buffer in
            var parser = JSONByteParser(buffer, maxDepth: maxDepth)
            return Result { () throws(JSONParseError) in try parser.parseDocument() }
        }
        return try result.get()
    }

    /// Parses a complete JSON text from raw memory.
    public static func parse(_ buffer: UnsafeRawBufferPointer, maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        var parser = JSONByteParser(buffer.bindMemory(to: UInt8.self), maxDepth: maxDepth)
        return try parser.parseDocument()
    }

    /// Parses a complete JSON text from a string.
    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        var text = text
        // withUTF8 makes the storage contiguous (a no-op for native strings).
        let result: Result<JSONValue, JSONParseError> = text.withUTF8 { buffer in
            var parser = JSONByteParser(buffer, maxDepth: maxDepth)
            return Result { () throws(JSONParseError) in try parser.parseDocument() }
        }
        return try result.get()
    }

    /// Parses and, when the top level is an array, reports each element's byte
    /// range (offsets into `buffer`). Socket.IO uses this to forward event
    /// arguments without re-serialising them.
    static func parseRecordingElements(
        _ buffer: UnsafeBufferPointer<UInt8>,
        maxDepth: Int = defaultMaxDepth
    ) throws(JSONParseError) -> (value: JSONValue, elementRanges: [Range<Int>]) {
        var parser = JSONByteParser(buffer, maxDepth: maxDepth)
        parser.recordsTopLevelElements = true
        let value = try parser.parseDocument()
        return (value, parser.topLevelElementRanges)
    }
}

/// One open array or object while parsing; kept in an explicit stack instead
/// of recursion so that stack depth is independent of input nesting.
private struct JSONParseFrame {
    var isObject: Bool
    var elements: [JSONValue] = []
    var entries: [(key: String, value: JSONValue)] = []
    var pendingKey = ""
    /// Built lazily for larger objects so duplicate-key checks stay linear overall.
    var keyIndex: [String: Int]?

    init(isObject: Bool) {
        self.isObject = isObject
        // Start with room for a few members: most payload containers are small,
        // and this skips the 1→2→4 regrowth steps.
        if isObject {
            entries.reserveCapacity(8)
        } else {
            elements.reserveCapacity(4)
        }
    }

    mutating func add(_ value: JSONValue) {
        guard isObject else {
            elements.append(value)
            return
        }
        let key = pendingKey
        if let keyIndex {
            if let existing = keyIndex[key] {
                entries[existing].value = value
            } else {
                self.keyIndex?[key] = entries.count
                entries.append((key: key, value: value))
            }
            return
        }
        for i in entries.indices where entries[i].key == key {
            entries[i].value = value
            return
        }
        entries.append((key: key, value: value))
        if entries.count >= 16 {
            var index: [String: Int] = [:]
            index.reserveCapacity(16)
            for (i, entry) in entries.enumerated() {
                index[entry.key] = i
            }
            keyIndex = index
        }
    }

    func finish() -> JSONValue {
        isObject ? .object(JSONObject(uniqueEntries: entries)) : .array(elements)
    }
}

/// The parsing engine over a contiguous UTF-8 buffer.
struct JSONByteParser {
    private let buffer: UnsafeBufferPointer<UInt8>
    private var pos = 0
    private let maxDepth: Int
    private var stack: [JSONParseFrame] = []
    /// When set, ``topLevelElementRanges`` is filled for a top-level array.
    var recordsTopLevelElements = false
    private(set) var topLevelElementRanges: [Range<Int>] = []
    private var elementStart = 0

    init(_ buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.buffer = buffer
        self.maxDepth = max(0, maxDepth)
    }

    private static let quote: UInt8 = 0x22
    private static let backslash: UInt8 = 0x5C
    private static let comma: UInt8 = 0x2C
    private static let colon: UInt8 = 0x3A

    private func fail(_ kind: JSONParseError.Kind) -> JSONParseError {
        JSONParseError(kind, offset: pos)
    }

    private mutating func skipWhitespace() {
        while pos < buffer.count {
            switch buffer[pos] {
            case 0x20, 0x09, 0x0A, 0x0D:
                pos += 1
            default:
                return
            }
        }
    }

    /// Parses one value and requires only whitespace after it.
    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        guard pos < buffer.count else { throw fail(.emptyInput) }
        let value = try parseValueIteratively()
        skipWhitespace()
        guard pos == buffer.count else { throw fail(.trailingCharacters) }
        return value
    }

    private mutating func parseValueIteratively() throws(JSONParseError) -> JSONValue {
        while true {
            // Expect the start of a value (whitespace already skipped).
            guard pos < buffer.count else { throw fail(.unexpectedEnd) }
            if recordsTopLevelElements, stack.count == 1, !stack[0].isObject {
                elementStart = pos
            }
            var value: JSONValue
            switch buffer[pos] {
            case 0x7B: // {
                guard stack.count < maxDepth else { throw fail(.tooDeep) }
                pos += 1
                skipWhitespace()
                if pos < buffer.count, buffer[pos] == 0x7D {
                    pos += 1
                    value = .object(JSONObject())
                } else {
                    var frame = JSONParseFrame(isObject: true)
                    frame.pendingKey = try parseKeyAndColon()
                    stack.append(frame)
                    skipWhitespace()
                    continue
                }
            case 0x5B: // [
                guard stack.count < maxDepth else { throw fail(.tooDeep) }
                pos += 1
                skipWhitespace()
                if pos < buffer.count, buffer[pos] == 0x5D {
                    pos += 1
                    value = .array([])
                } else {
                    stack.append(JSONParseFrame(isObject: false))
                    continue
                }
            case Self.quote:
                value = .string(try parseString())
            case 0x2D, 0x30...0x39:
                value = try parseNumber()
            case 0x74: // t
                try expectLiteral("true")
                value = .bool(true)
            case 0x66: // f
                try expectLiteral("false")
                value = .bool(false)
            case 0x6E: // n
                try expectLiteral("null")
                value = .null
            default:
                throw fail(.unexpectedCharacter(buffer[pos]))
            }

            // Attach the finished value to its container, closing containers as needed.
            while true {
                guard !stack.isEmpty else { return value }
                let top = stack.count - 1
                if recordsTopLevelElements, top == 0, !stack[0].isObject {
                    topLevelElementRanges.append(elementStart..<pos)
                }
                stack[top].add(value)
                skipWhitespace()
                guard pos < buffer.count else { throw fail(.unexpectedEnd) }
                let byte = buffer[pos]
                if byte == Self.comma {
                    pos += 1
                    skipWhitespace()
                    if stack[top].isObject {
                        stack[top].pendingKey = try parseKeyAndColon()
                        skipWhitespace()
                    }
                    break
                }
                let closer: UInt8 = stack[top].isObject ? 0x7D : 0x5D
                guard byte == closer else { throw fail(.unexpectedCharacter(byte)) }
                pos += 1
                // removeLast moves the frame out, so its storage stays uniquely owned.
                value = stack.removeLast().finish()
            }
        }
    }

    /// Parses `"key"` followed by `:` (whitespace allowed around the colon).
    private mutating func parseKeyAndColon() throws(JSONParseError) -> String {
        guard pos < buffer.count else { throw fail(.unexpectedEnd) }
        guard buffer[pos] == Self.quote else { throw fail(.unexpectedCharacter(buffer[pos])) }
        let key = try parseString()
        skipWhitespace()
        guard pos < buffer.count else { throw fail(.unexpectedEnd) }
        guard buffer[pos] == Self.colon else { throw fail(.unexpectedCharacter(buffer[pos])) }
        pos += 1
        skipWhitespace()
        return key
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let length = literal.utf8CodeUnitCount
        guard buffer.count - pos >= length else {
            // Report a wrong byte if there is one, else the truncation.
            var i = 0
            while pos + i < buffer.count {
                if buffer[pos + i] != literal.utf8Start[i] {
                    pos += i
                    throw fail(.unexpectedCharacter(buffer[pos]))
                }
                i += 1
            }
            pos = buffer.count
            throw fail(.unexpectedEnd)
        }
        for i in 0..<length where buffer[pos + i] != literal.utf8Start[i] {
            pos += i
            throw fail(.unexpectedCharacter(buffer[pos]))
        }
        pos += length
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte &- 0x30 < 10
    }

    /// Exactly representable powers of ten for the fast double path.
    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    private mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = pos
        var negative = false
        if buffer[pos] == 0x2D {
            negative = true
            pos += 1
        }
        guard pos < buffer.count else { throw fail(.invalidNumber) }
        // `magnitude` is the exact integer part; `mantissa`/`significantDigits`
        // gather all digits for the fast double conversion below.
        var magnitude: UInt64 = 0
        var overflow = false
        var mantissa: UInt64 = 0
        var significantDigits = 0
        var fractionDigits = 0
        if buffer[pos] == 0x30 {
            pos += 1
        } else if Self.isDigit(buffer[pos]) {
            while pos < buffer.count, Self.isDigit(buffer[pos]) {
                let digit = UInt64(buffer[pos] &- 0x30)
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(digit)
                overflow = overflow || o1 || o2
                magnitude = sum
                significantDigits += 1
                if significantDigits <= 19 { mantissa = mantissa &* 10 &+ digit }
                pos += 1
            }
        } else {
            throw fail(.invalidNumber)
        }
        var isInteger = true
        if pos < buffer.count, buffer[pos] == 0x2E { // .
            isInteger = false
            pos += 1
            guard pos < buffer.count, Self.isDigit(buffer[pos]) else { throw fail(.invalidNumber) }
            while pos < buffer.count, Self.isDigit(buffer[pos]) {
                let digit = UInt64(buffer[pos] &- 0x30)
                if significantDigits > 0 || digit != 0 { significantDigits += 1 }
                if significantDigits <= 19 {
                    mantissa = mantissa &* 10 &+ digit
                    fractionDigits += 1
                }
                pos += 1
            }
        }
        var exponent = 0
        if pos < buffer.count, buffer[pos] | 0x20 == 0x65 { // e or E
            isInteger = false
            pos += 1
            var exponentNegative = false
            if pos < buffer.count, buffer[pos] == 0x2B || buffer[pos] == 0x2D {
                exponentNegative = buffer[pos] == 0x2D
                pos += 1
            }
            guard pos < buffer.count, Self.isDigit(buffer[pos]) else { throw fail(.invalidNumber) }
            while pos < buffer.count, Self.isDigit(buffer[pos]) {
                // Cap: anything this large is ±infinity or zero anyway.
                if exponent < 100_000 { exponent = exponent * 10 + Int(buffer[pos] &- 0x30) }
                pos += 1
            }
            if exponentNegative { exponent = -exponent }
        }
        if isInteger, !overflow {
            if !negative, magnitude <= UInt64(Int64.max) {
                return .int(Int64(magnitude))
            }
            if negative, magnitude <= UInt64(Int64.max) {
                return .int(-Int64(magnitude))
            }
            if negative, magnitude == UInt64(Int64.max) + 1 {
                return .int(Int64.min)
            }
        }
        // Fast path (Clinger): with at most 15 significant digits and a small
        // power of ten, both operands are exact doubles, so one multiplication
        // or division gives the correctly rounded result.
        let decimalExponent = exponent - fractionDigits
        if significantDigits <= 15, decimalExponent >= -22, decimalExponent <= 22 {
            var double = Double(mantissa)
            if decimalExponent >= 0 {
                double *= Self.powersOfTen[decimalExponent]
            } else {
                double /= Self.powersOfTen[-decimalExponent]
            }
            return .double(negative ? -double : double)
        }
        // The grammar is already validated, so the standard (locale-independent)
        // conversion only has to round; out-of-range exponents give ±infinity like JS.
        let text = String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<pos]), as: UTF8.self)
        guard let double = Double(text) else { throw JSONParseError(.invalidNumber, offset: start) }
        return .double(double)
    }

    private static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case 0x30...0x39: return UInt32(byte - 0x30)
        case 0x41...0x46: return UInt32(byte - 0x41 + 10)
        case 0x61...0x66: return UInt32(byte - 0x61 + 10)
        default: return nil
        }
    }

    /// Reads four hex digits at `at`, or nil if they are not all there.
    private func readHex4(at index: Int) -> UInt32? {
        guard buffer.count - index >= 4 else { return nil }
        var value: UInt32 = 0
        for i in 0..<4 {
            guard let digit = Self.hexValue(buffer[index + i]) else { return nil }
            value = value << 4 | digit
        }
        return value
    }

    /// Parses a string starting at the opening quote.
    private mutating func parseString() throws(JSONParseError) -> String {
        pos += 1
        let start = pos
        // Fast path: no escapes, so the bytes can become the String directly.
        while pos < buffer.count {
            let byte = buffer[pos]
            if byte == Self.quote {
                let string = String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<pos]), as: UTF8.self)
                pos += 1
                return string
            }
            if byte == Self.backslash { break }
            if byte < 0x20 { throw fail(.controlCharacterInString) }
            pos += 1
        }
        guard pos < buffer.count else { throw fail(.unexpectedEnd) }

        var bytes: [UInt8] = []
        bytes.reserveCapacity(pos - start + 16)
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start..<pos]))
        while pos < buffer.count {
            let byte = buffer[pos]
            if byte == Self.quote {
                pos += 1
                return String(decoding: bytes, as: UTF8.self)
            }
            if byte < 0x20 { throw fail(.controlCharacterInString) }
            guard byte == Self.backslash else {
                bytes.append(byte)
                pos += 1
                continue
            }
            pos += 1
            guard pos < buffer.count else { throw fail(.unexpectedEnd) }
            switch buffer[pos] {
            case 0x22: bytes.append(0x22)
            case 0x5C: bytes.append(0x5C)
            case 0x2F: bytes.append(0x2F)
            case 0x62: bytes.append(0x08)
            case 0x66: bytes.append(0x0C)
            case 0x6E: bytes.append(0x0A)
            case 0x72: bytes.append(0x0D)
            case 0x74: bytes.append(0x09)
            case 0x75:
                try appendUnicodeEscape(into: &bytes)
                continue
            default:
                throw fail(.invalidEscape)
            }
            pos += 1
        }
        throw fail(.unexpectedEnd)
    }

    /// Decodes `uXXXX` (pos at the `u`), pairing surrogates; lone ones become U+FFFD.
    private mutating func appendUnicodeEscape(into bytes: inout [UInt8]) throws(JSONParseError) {
        guard let unit = readHex4(at: pos + 1) else { throw fail(.invalidUnicodeEscape) }
        pos += 5
        var scalarValue = unit
        if unit & 0xFC00 == 0xD800 {
            // A high surrogate only counts if a low-surrogate escape follows at once.
            if buffer.count - pos >= 6, buffer[pos] == Self.backslash, buffer[pos + 1] == 0x75,
               let low = readHex4(at: pos + 2), low & 0xFC00 == 0xDC00 {
                scalarValue = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                pos += 6
            } else {
                scalarValue = 0xFFFD
            }
        } else if unit & 0xFC00 == 0xDC00 {
            scalarValue = 0xFFFD
        }
        Self.appendUTF8(scalarValue, to: &bytes)
    }

    /// Appends the UTF-8 form of a scalar value (never a surrogate here).
    private static func appendUTF8(_ value: UInt32, to bytes: inout [UInt8]) {
        switch value {
        case ..<0x80:
            bytes.append(UInt8(value))
        case ..<0x800:
            bytes.append(UInt8(0xC0 | value >> 6))
            bytes.append(UInt8(0x80 | value & 0x3F))
        case ..<0x10000:
            bytes.append(UInt8(0xE0 | value >> 12))
            bytes.append(UInt8(0x80 | (value >> 6) & 0x3F))
            bytes.append(UInt8(0x80 | value & 0x3F))
        default:
            bytes.append(UInt8(0xF0 | value >> 18))
            bytes.append(UInt8(0x80 | (value >> 12) & 0x3F))
            bytes.append(UInt8(0x80 | (value >> 6) & 0x3F))
            bytes.append(UInt8(0x80 | value & 0x3F))
        }
    }
}
