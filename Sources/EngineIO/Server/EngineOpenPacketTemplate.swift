import Transport

/// The open packet's JSON (`EngineHandshake.jsonBytes`) cut around the session id, made once per server
/// from the server's options: a handshake copies the two constant pieces and the id, instead of writing
/// three numbers and escaping two strings (about 3,500 instructions per connection).
struct EngineOpenPacketTemplate: Sendable {
    /// `{"sid":"`, what every open packet starts with.
    private static let head: [UInt8] = Array(#"{"sid":""#.utf8)
    /// What follows the id, by `index(upgrades:isV3:)`.
    private let tails: [[UInt8]]

    init(pingInterval: Int, pingTimeout: Int, maxPayload: Int) {
        var tails: [[UInt8]] = []
        for upgrades in [[], ["websocket"]] as [[String]] {
            for isV3 in [false, true] {
                // The generic encoder with an empty id: the template is byte for byte what it writes.
                let whole = EngineHandshake(sid: "", upgrades: upgrades, pingInterval: pingInterval, pingTimeout: pingTimeout,
                                            maxPayload: maxPayload, includesMaxPayload: !isV3).jsonBytes
                tails.append(Array(whole.dropFirst(Self.head.count)))
            }
        }
        self.tails = tails
    }

    private static func index(upgradesToWebSocket: Bool, isV3: Bool) -> Int {
        (upgradesToWebSocket ? 2 : 0) + (isV3 ? 1 : 0)
    }

    /// Bytes of the JSON for `sid`, or nil when `sid` would need escaping (never for generated ids).
    func length(sid: String, upgradesToWebSocket: Bool, isV3: Bool) -> Int? {
        var sid = sid
        guard sid.withUTF8(Self.isPlain) else { return nil }
        return Self.head.count + sid.utf8.count + self.tails[Self.index(upgradesToWebSocket: upgradesToWebSocket, isV3: isV3)].count
    }

    /// Whether `bytes` go into a JSON string as they are (no control byte, quote, backslash or non-ASCII),
    /// eight at a time: a byte loop cost about 300 instructions per new session for a 20-byte id.
    private static func isPlain(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var i = 0
        while bytes.count - i >= 8 {
            let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            let special = ByteWord.below(word, 0x20) | ByteWord.nonASCII(word) | ByteWord.equal(word, 0x22)
                | ByteWord.equal(word, 0x5C)
            if special != 0 { return false }
            i += 8
        }
        while i < bytes.count {
            let byte = base[i]
            if byte < 0x20 || byte == 0x22 || byte == 0x5C || byte >= 0x80 { return false }
            i += 1
        }
        return true
    }

    /// Appends the JSON `length` measured.
    func append(sid: String, upgradesToWebSocket: Bool, isV3: Bool, to out: inout [UInt8]) {
        out.append(contentsOf: Self.head)
        var sid = sid
        sid.withUTF8 { out.append(contentsOf: $0) }
        out.append(contentsOf: self.tails[Self.index(upgradesToWebSocket: upgradesToWebSocket, isV3: isV3)])
    }
}
