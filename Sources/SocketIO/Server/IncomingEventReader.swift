import EngineIO
import Transport

/// The server's fast path for the packet it receives most: a plain EVENT (`2[/nsp,][id]["name",…]`).
///
/// It validates the JSON payload without building values, records where each top-level element is, and
/// decodes only the event name; the arguments stay JSON text (`SocketArguments` decodes them on demand and
/// relays the text unchanged). It accepts only packets the full decoder (`SocketPacketDecoder`) would
/// accept as the same EVENT: anything unusual (a numeric or reserved event name, nesting deeper than 64, a
/// malformed header or payload) returns nil, and the caller hands the packet to the full decoder, which
/// produces the same outcome it always did (including its errors).
///
/// The payload travels beside the event (`read` returns both), so that the socket moves it into the
/// arguments: taken out of the event, it was copied (two retains) and released with the event. The event
/// itself holds only indices (no strings), so it costs nothing to drop.
struct IncomingEvent {
    /// Indices into the message of the namespace's name when it is not the main one (`/`, which the packet
    /// usually leaves out).
    var namespaceRange: Range<Int>?
    var ackID: Int?
    /// Indices into the payload's bytes of the name's text between its quotes.
    var nameRange: Range<Int>
    /// Whether the name has escapes: `name(in:)` decodes it with the full parser; otherwise it is the plain
    /// text at `nameRange`, which the socket turns into a String only if no handler's name already spells it.
    var nameHasEscapes: Bool

    /// The namespace's name, `text` being the message read.
    func namespace(in text: ArraySlice<UInt8>) -> String {
        guard let range = self.namespaceRange else { return "/" }
        return String(decoding: text[range], as: UTF8.self)
    }

    /// The event name, `raw` being the payload `read` returned with this event.
    func name(in raw: SocketRawData) -> String {
        guard self.nameHasEscapes else { return String(decoding: raw.bytes[self.nameRange], as: UTF8.self) }
        // `read` decoded it once already, so this cannot fail.
        let quoted = raw.bytes[(self.nameRange.lowerBound - 1)..<(self.nameRange.upperBound + 1)]
        return quoted.withUnsafeBytes { Self.decodeName($0) } ?? ""
    }

    /// A JSON string (quotes included) decoded by the full parser.
    private static func decodeName(_ quoted: UnsafeRawBufferPointer) -> String? {
        guard case .string(let decoded)? = try? JSONParser.parse(quoted) else { return nil }
        return decoded
    }

    /// Reads `text` (one Engine.IO message, after its `4`) if it is a plain EVENT the fast path handles:
    /// the event and its payload text (with its element count and ranges, indices into `text`'s storage).
    static func read(_ text: ArraySlice<UInt8>, maxDepth: Int) -> (event: IncomingEvent, raw: SocketRawData)? {
        guard !text.isEmpty, text[text.startIndex] == 0x32 else { return nil }  // "2": EVENT
        return text.withUnsafeBufferPointer { buffer -> (event: IncomingEvent, raw: SocketRawData)? in
            Self.read(buffer, base: text.startIndex, source: text, maxDepth: maxDepth)
        }
    }

    private static func read(_ bytes: UnsafeBufferPointer<UInt8>, base: Int, source: ArraySlice<UInt8>,
                             maxDepth: Int) -> (event: IncomingEvent, raw: SocketRawData)? {
        var i = 1
        var namespaceRange: Range<Int>?
        if i < bytes.count, bytes[i] == 0x2F {
            let start = i
            while i < bytes.count, bytes[i] != 0x2C { i += 1 }
            // An explicit "/" is the main namespace.
            if i - start > 1 { namespaceRange = (base + start)..<(base + i) }
            if i < bytes.count { i += 1 }
        }
        var ackID: Int?
        if i < bytes.count, bytes[i] &- 0x30 < 10 {
            var value = 0
            var digits = 0
            while i < bytes.count, bytes[i] &- 0x30 < 10 {
                // 18 digits cannot overflow an Int; longer ids go to the full decoder.
                digits += 1
                guard digits <= 18 else { return nil }
                value = value * 10 + Int(bytes[i] &- 0x30)
                i += 1
            }
            ackID = value
        }
        guard i < bytes.count else { return nil }
        var scanner = JSONArrayScanner(bytes, base: base, maxDepth: min(maxDepth, 64))
        guard scanner.scanArray(from: i), let first = scanner.firstRange else { return nil }
        // The event name: a string, decoded here (escapes through the full parser).
        guard bytes[first.lowerBound] == 0x22 else { return nil }
        if scanner.firstStringHasEscapes {
            guard let decoded = Self.decodeName(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[first]))) else {
                return nil
            }
            if isReservedEventName(decoded) { return nil }
        } else if isReservedEventName(UnsafeBufferPointer(rebasing: bytes[(first.lowerBound + 1)..<(first.upperBound - 1)])) {
            return nil
        }
        let payload = source[(base + i)...]
        let event = IncomingEvent(namespaceRange: namespaceRange, ackID: ackID,
                                  nameRange: (base + first.lowerBound + 1)..<(base + first.upperBound - 1),
                                  nameHasEscapes: scanner.firstStringHasEscapes)
        return (event, SocketRawData(bytes: payload, count: scanner.count,
                                     tail: scanner.tail ?? payload.endIndex..<payload.endIndex))
    }
}

/// Whether `name` is one of `Socket.reservedEventNames` / `SocketPacketDecoder.reservedEventNames`
/// (`connect`, `connect_error`, `disconnect`, `disconnecting`, `newListener`, `removeListener`), without
/// hashing: most names differ in length or first byte.
@inline(__always)
func isReservedEventName(_ name: String) -> Bool {
    switch name.utf8.count {
    case 7: return name == "connect"
    case 10: return name == "disconnect"
    case 11: return name == "newListener"
    case 13: return name == "connect_error" || name == "disconnecting"
    case 14: return name == "removeListener"
    default: return false
    }
}

/// `isReservedEventName` for a name's UTF-8 (an unescaped JSON string's text).
func isReservedEventName(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
    func equals(_ literal: StaticString) -> Bool {
        name.elementsEqual(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }
    switch name.count {
    case 7: return equals("connect")
    case 10: return equals("disconnect")
    case 11: return equals("newListener")
    case 13: return equals("connect_error") || equals("disconnecting")
    case 14: return equals("removeListener")
    default: return false
    }
}

/// Checks that a byte range is one JSON document whose top level is an array, as `JSONParser` would
/// accept it (same grammar: RFC 8259, any bytes of 0x20 and above inside strings, lone surrogate escapes
/// allowed), without building any value. Records each top-level element's byte range. Returns false for
/// anything it does not accept, including nesting deeper than `maxDepth` (at most 64).
struct JSONArrayScanner {
    private let bytes: UnsafeBufferPointer<UInt8>
    private let maxDepth: Int
    private let base: Int
    private let recordsRanges: Bool
    private var pos = 0
    /// Top-level element ranges, as offsets into the buffer plus `base`; kept only when asked for at init.
    private(set) var ranges: [Range<Int>] = []
    /// How many top-level elements there are.
    private(set) var count = 0
    /// The first top-level element's range (offsets into the buffer).
    private(set) var firstRange: Range<Int>?
    /// From the second element's start to the last one's end, as offsets into the buffer plus `base`
    /// (nil with fewer than two elements): the arguments of an EVENT, found without keeping every range.
    private(set) var tail: Range<Int>?
    /// Whether the first top-level element, when a string, contains a backslash escape.
    private(set) var firstStringHasEscapes = false

    init(_ bytes: UnsafeBufferPointer<UInt8>, base: Int = 0, maxDepth: Int, recordsRanges: Bool = false) {
        self.bytes = bytes
        self.base = base
        self.maxDepth = max(1, min(64, maxDepth))
        self.recordsRanges = recordsRanges
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    /// Scans `bytes[start...]`: optional whitespace, a non-empty array, optional whitespace, the end.
    mutating func scanArray(from start: Int) -> Bool {
        pos = start
        skipWhitespace()
        guard pos < bytes.count, bytes[pos] == 0x5B else { return false }
        pos += 1
        skipWhitespace()
        guard pos < bytes.count, bytes[pos] != 0x5D else { return false }
        // One bit per open container below the top-level array: 1 = object.
        var kinds: UInt64 = 0
        var depth = 1
        var elementStart = 0
        var secondStart = 0
        while true {
            // A value starts here (whitespace skipped).
            guard pos < bytes.count else { return false }
            if depth == 1 { elementStart = pos }
            switch bytes[pos] {
            case 0x7B, 0x5B:  // { [
                guard depth < maxDepth else { return false }
                let isObject = bytes[pos] == 0x7B
                pos += 1
                skipWhitespace()
                guard pos < bytes.count else { return false }
                if bytes[pos] == (isObject ? 0x7D : 0x5D) {
                    pos += 1
                } else {
                    kinds = isObject ? kinds | (1 << UInt64(depth)) : kinds & ~(1 << UInt64(depth))
                    depth += 1
                    if isObject {
                        guard scanKeyAndColon() else { return false }
                    }
                    continue
                }
            case 0x22:
                let escaped = scanString()
                guard let escaped else { return false }
                if escaped && depth == 1 && count == 0 { firstStringHasEscapes = true }
            case 0x2D, 0x30...0x39:
                guard scanNumber() else { return false }
            case 0x74:
                guard expect(0x74, 0x72, 0x75, 0x65) else { return false }
            case 0x66:
                guard expect(0x66, 0x61, 0x6C, 0x73), pos < bytes.count, bytes[pos] == 0x65 else { return false }
                pos += 1
            case 0x6E:
                guard expect(0x6E, 0x75, 0x6C, 0x6C) else { return false }
            default:
                return false
            }
            // A value ended: close containers until one continues.
            while true {
                if depth == 0 {
                    skipWhitespace()
                    return pos == bytes.count
                }
                if depth == 1 {
                    count += 1
                    if count == 1 {
                        firstRange = elementStart..<pos
                    } else {
                        if count == 2 { secondStart = elementStart }
                        tail = (base + secondStart)..<(base + pos)
                    }
                    if recordsRanges { ranges.append((base + elementStart)..<(base + pos)) }
                }
                skipWhitespace()
                guard pos < bytes.count else { return false }
                let isObject = depth > 1 && kinds & (1 << UInt64(depth - 1)) != 0
                let byte = bytes[pos]
                if byte == 0x2C {
                    pos += 1
                    skipWhitespace()
                    if isObject {
                        guard scanKeyAndColon() else { return false }
                    }
                    break
                }
                guard byte == (isObject ? 0x7D : 0x5D) else { return false }
                pos += 1
                // The closed container is itself a value that ended, in its parent (or the document).
                depth -= 1
            }
        }
    }

    private mutating func scanKeyAndColon() -> Bool {
        guard pos < bytes.count, bytes[pos] == 0x22, scanString() != nil else { return false }
        skipWhitespace()
        guard pos < bytes.count, bytes[pos] == 0x3A else { return false }
        pos += 1
        skipWhitespace()
        return true
    }

    @inline(__always)
    private mutating func expect(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> Bool {
        guard bytes.count - pos >= 4, bytes[pos] == a, bytes[pos + 1] == b, bytes[pos + 2] == c, bytes[pos + 3] == d else {
            return false
        }
        pos += 4
        return true
    }

    /// Scans a string from its opening quote; returns whether it had escapes, or nil when invalid. Works on a
    /// local position (a `pos` kept in memory cost a load and store per byte) and skips eight plain bytes
    /// at a time.
    private mutating func scanString() -> Bool? {
        guard let base = bytes.baseAddress else { return nil }
        let end = bytes.count
        var p = pos + 1
        var escaped = false
        while true {
            while end - p >= 8 {
                let lanes = Self.specialLanes(UnsafeRawPointer(base + p).loadUnaligned(as: UInt64.self))
                if lanes != 0 {
                    // The lowest flagged lane is exact (false lanes only ever follow a true one).
                    p += lanes.trailingZeroBitCount &>> 3
                    break
                }
                p += 8
            }
            while p < end {
                let byte = base[p]
                if byte == 0x22 || byte == 0x5C || byte < 0x20 { break }
                p += 1
            }
            guard p < end else { return nil }
            let byte = base[p]
            if byte == 0x22 {
                pos = p + 1
                return escaped
            }
            guard byte == 0x5C else { return nil }  // a control byte
            escaped = true
            p += 1
            guard p < end else { return nil }
            switch base[p] {
            case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74:
                p += 1
            case 0x75:
                guard end - p >= 5 else { return nil }
                for k in 1...4 {
                    let h = base[p + k]
                    guard h &- 0x30 < 10 || (h | 0x20) &- 0x61 < 6 else { return nil }
                }
                p += 5
            default:
                return nil
            }
        }
    }

    /// High bits set in the lanes of `word` that may be `"`, `\` or below 0x20: every such byte's lane is
    /// set, and a lane of another byte only after (above) a set one; bytes from 0x80 up are never set first.
    @inline(__always)
    private static func specialLanes(_ word: UInt64) -> UInt64 {
        ByteWord.equal(word, 0x22) | ByteWord.equal(word, 0x5C) | ByteWord.below(word, 0x20)
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    private mutating func scanNumber() -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let end = bytes.count
        var p = pos
        if base[p] == 0x2D { p += 1 }
        guard p < end else { return false }
        if base[p] == 0x30 {
            p += 1
        } else if base[p] &- 0x30 < 10 {
            while p < end, base[p] &- 0x30 < 10 { p += 1 }
        } else {
            return false
        }
        if p < end, base[p] == 0x2E {
            p += 1
            guard p < end, base[p] &- 0x30 < 10 else { return false }
            while p < end, base[p] &- 0x30 < 10 { p += 1 }
        }
        if p < end, base[p] | 0x20 == 0x65 {
            p += 1
            if p < end, base[p] == 0x2B || base[p] == 0x2D { p += 1 }
            guard p < end, base[p] &- 0x30 < 10 else { return false }
            while p < end, base[p] &- 0x30 < 10 { p += 1 }
        }
        pos = p
        return true
    }
}
