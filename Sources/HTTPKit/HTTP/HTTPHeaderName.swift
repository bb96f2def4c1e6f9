/// The header names the server itself looks at, recognised once per field when it is stored, so lookups
/// compare one byte instead of case-folding strings.
///
/// `other` is every name not in this list; those are still found, by comparing bytes without regard to case.
public enum HTTPHeaderName: UInt8, Sendable, CaseIterable {
    case other = 0
    case host, connection, upgrade, contentLength, transferEncoding, contentType, date, origin, cookie, expect
    case secWebSocketKey, secWebSocketVersion, secWebSocketExtensions, secWebSocketProtocol
    case xForwardedFor, xForwardedProto, accessControlRequestHeaders, acceptEncoding, range, ifRange
    case ifNoneMatch, ifModifiedSince, contentDisposition, authorization

    /// The known name `bytes` spell (any ASCII case), or `other`: by length first, then against the
    /// lower-case spellings in place (no arrays, no reference counting: this runs for every field).
    static func recognise(_ bytes: UnsafeBufferPointer<UInt8>) -> HTTPHeaderName {
        switch bytes.count {
        case 4: return spells(bytes, "host") ? .host : spells(bytes, "date") ? .date : .other
        case 5: return spells(bytes, "range") ? .range : .other
        case 6: return spells(bytes, "origin") ? .origin : spells(bytes, "cookie") ? .cookie : spells(bytes, "expect") ? .expect : .other
        case 7: return spells(bytes, "upgrade") ? .upgrade : .other
        case 8: return spells(bytes, "if-range") ? .ifRange : .other
        case 10: return spells(bytes, "connection") ? .connection : .other
        case 12: return spells(bytes, "content-type") ? .contentType : .other
        case 13: return spells(bytes, "if-none-match") ? .ifNoneMatch : spells(bytes, "authorization") ? .authorization : .other
        case 14: return spells(bytes, "content-length") ? .contentLength : .other
        case 15: return spells(bytes, "x-forwarded-for") ? .xForwardedFor : spells(bytes, "accept-encoding") ? .acceptEncoding : .other
        case 17:
            if spells(bytes, "sec-websocket-key") { return .secWebSocketKey }
            if spells(bytes, "transfer-encoding") { return .transferEncoding }
            if spells(bytes, "x-forwarded-proto") { return .xForwardedProto }
            return spells(bytes, "if-modified-since") ? .ifModifiedSince : .other
        case 19: return spells(bytes, "content-disposition") ? .contentDisposition : .other
        case 21: return spells(bytes, "sec-websocket-version") ? .secWebSocketVersion : .other
        case 22: return spells(bytes, "sec-websocket-protocol") ? .secWebSocketProtocol : .other
        case 24: return spells(bytes, "sec-websocket-extensions") ? .secWebSocketExtensions : .other
        case 30: return spells(bytes, "access-control-request-headers") ? .accessControlRequestHeaders : .other
        default: return .other
        }
    }

    /// Whether `bytes` equal `lower` (lower case, same length) ignoring ASCII case. Eight bytes at a time
    /// from eight on (the last word overlaps the one before): a byte loop cost about 136 instructions per
    /// field of a WebSocket upgrade request.
    @inline(__always)
    private static func spells(_ bytes: UnsafeBufferPointer<UInt8>, _ lower: StaticString) -> Bool {
        let expected = lower.utf8Start
        let count = bytes.count
        guard count >= 8, let base = bytes.baseAddress else {
            for index in 0..<count where ASCIICase.lower(bytes[index]) != expected[index] { return false }
            return true
        }
        var offset = 0
        while true {
            let at = Swift.min(offset, count - 8)
            let word = UnsafeRawPointer(base + at).loadUnaligned(as: UInt64.self)
            let want = UnsafeRawPointer(expected + at).loadUnaligned(as: UInt64.self)
            guard let folded = Self.lowercasedASCII(word), folded == want else { return false }
            if at == count - 8 { return true }
            offset += 8
        }
    }

    /// The eight bytes of `word` with A-Z made a-z, or nil when one is not ASCII. Exact per byte: below 0x80
    /// neither sum carries into the next byte.
    @inline(__always)
    private static func lowercasedASCII(_ word: UInt64) -> UInt64? {
        let highs: UInt64 = 0x8080_8080_8080_8080
        guard word & highs == 0 else { return nil }
        let fromA = word &+ 0x3F3F_3F3F_3F3F_3F3F  // high bit set from "A" (0x41) up
        let pastZ = word &+ 0x2525_2525_2525_2525  // high bit set past "Z" (0x5A)
        return word | ((fromA & ~pastZ & highs) >> 2)
    }

    /// The known name `text` spells (any ASCII case), or `other`.
    static func recognise(_ text: String) -> HTTPHeaderName {
        var text = text
        return text.withUTF8 { self.recognise($0) }
    }
}
