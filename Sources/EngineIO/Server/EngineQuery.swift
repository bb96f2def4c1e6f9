import Glibc
import HTTPKit
import Transport

/// The query parameters the server reads (`transport`, `EIO`, `sid`), found without building a
/// `QueryParameters` when the target is plain ASCII without escapes (`%`, `+`); otherwise (or for anything
/// unusual) through `QueryParameters`, whose first-value semantics the fast path reproduces.
struct EngineQuery {
    /// Values as bytes: a polling request makes no `String` for them (a session id is 20 bytes, inline).
    var transport: EngineQueryToken?
    var eio: EngineQueryToken?
    var sid: EngineQueryToken?

    /// 4 or 3 when `EIO` is exactly that, else nil (compared without building optional pairs, which went
    /// through the runtime's generic tuple destroy).
    var protocolVersion: Int? {
        guard let eio = self.eio else { return nil }
        if eio == .four { return 4 }
        if eio == .three { return 3 }
        return nil
    }

    /// A value as text (tests compare it with `QueryParameters`).
    subscript(name: String) -> String? {
        switch name {
        case "transport": return self.transport?.string
        case "EIO": return self.eio?.string
        case "sid": return self.sid?.string
        default: return nil
        }
    }

    init(target: String) {
        var target = target
        if let fast = target.withUTF8({ Self.scan($0) }) {
            self = fast
            return
        }
        let query = QueryParameters(parsing: HTTPRequestHead(method: "GET", target: target).rawQuery)
        self.init(transport: query["transport"].map(EngineQueryToken.init), eio: query["EIO"].map(EngineQueryToken.init),
                  sid: query["sid"].map(EngineQueryToken.init))
    }

    private init(transport: EngineQueryToken?, eio: EngineQueryToken?, sid: EngineQueryToken?) {
        self.transport = transport
        self.eio = eio
        self.sid = sid
    }

    private static func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> EngineQuery? {
        // The three tokens are gathered in locals and the query built once at the end: filling a `result`
        // field by field copied and destroyed the whole query (about 240 instructions per handshake).
        var transport: EngineQueryToken?, eio: EngineQueryToken?, sid: EngineQueryToken?
        guard let base = bytes.baseAddress else { return EngineQuery(transport: nil, eio: nil, sid: nil) }
        let count = bytes.count
        // memchr for the separators: the target is about 80 bytes, and a byte loop cost about 800
        // instructions per polling request.
        func find(_ byte: UInt8, from: Int, to: Int) -> Int {
            guard from < to, let hit = memchr(base + from, Int32(byte), to - from) else { return to }
            return UnsafePointer(base).distance(to: hit.assumingMemoryBound(to: UInt8.self))
        }
        var i = find(0x3F, from: 0, to: count)  // ?
        guard !Self.holdsNonASCII(UnsafeBufferPointer(rebasing: bytes[0..<i])) else { return nil }
        i += 1
        // The query must be plain ASCII without escapes (`%`) or `+` (a space): checked for the whole query
        // up front, eight bytes at a time, so the loops below only look for `&` and `=`.
        guard i >= count || !Self.holdsSpecialByte(UnsafeBufferPointer(rebasing: bytes[i...])) else { return nil }
        var seenTransport = false, seenEIO = false, seenSID = false
        while i < count {
            let start = i
            let end = find(0x26, from: i, to: count)  // &
            i = end + 1
            guard end > start else { continue }  // empty pieces are skipped
            let nameEnd = find(0x3D, from: start, to: end)  // =
            let name = UnsafeBufferPointer(rebasing: bytes[start..<nameEnd])
            // Tokens only for the three names we read (the `t` cache buster and others are skipped).
            func value() -> EngineQueryToken {
                EngineQueryToken(UnsafeBufferPointer(rebasing: bytes[min(nameEnd + 1, end)..<end]))
            }
            if !seenTransport && Self.matches(name, "transport") {
                seenTransport = true
                transport = value()
            } else if !seenEIO && Self.matches(name, "EIO") {
                seenEIO = true
                eio = value()
            } else if !seenSID && Self.matches(name, "sid") {
                seenSID = true
                sid = value()
            }
        }
        // Anything after the query's end (a fragment cannot occur in a request target) is not special-cased.
        return EngineQuery(transport: transport, eio: eio, sid: sid)
    }

    /// Whether `bytes` hold a byte from 0x80 up.
    private static func holdsNonASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        var i = 0
        while bytes.count - i >= 8 {
            if ByteWord.nonASCII(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) != 0 { return true }
            i += 8
        }
        while i < bytes.count {
            if base[i] >= 0x80 { return true }
            i += 1
        }
        return false
    }

    /// Whether `bytes` hold a byte from 0x80 up, a `%` or a `+`.
    private static func holdsSpecialByte(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        var i = 0
        while bytes.count - i >= 8 {
            let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            if ByteWord.nonASCII(word) | ByteWord.equal(word, 0x25) | ByteWord.equal(word, 0x2B) != 0 { return true }
            i += 8
        }
        while i < bytes.count {
            let byte = base[i]
            if byte >= 0x80 || byte == 0x25 || byte == 0x2B { return true }
            i += 1
        }
        return false
    }

    /// Whether `bytes` spell `name` exactly (a byte comparison, no String).
    @inline(__always)
    private static func matches(_ bytes: UnsafeBufferPointer<UInt8>, _ name: StaticString) -> Bool {
        guard bytes.count == name.utf8CodeUnitCount, let base = bytes.baseAddress else { return false }
        return memcmp(base, name.utf8Start, bytes.count) == 0
    }

    /// `claims` for ASCII targets: the path (before `?`) starts with `prefix` or equals it without its
    /// final `/`. Nil when the target is not ASCII.
    static func claims(target: String, prefix: [UInt8]) -> Bool? {
        var target = target
        return target.withUTF8 { bytes -> Bool? in
            var end = 0
            while end < bytes.count, bytes[end] != 0x3F {
                guard bytes[end] < 0x80 else { return nil }
                end += 1
            }
            let length: Int
            if end >= prefix.count {
                length = prefix.count  // the path starts with the prefix
            } else if end == prefix.count - 1 {
                length = end  // the path is the prefix without its final "/"
            } else {
                return false
            }
            // memcmp, not elementsEqual: this runs for every request that reaches the chain.
            return prefix.withUnsafeBufferPointer { wanted in
                guard let a = bytes.baseAddress, let b = wanted.baseAddress else { return length == 0 }
                return memcmp(a, b, length) == 0
            }
        }
    }
}
