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
        guard sid.withUTF8({ ByteWord.isPlainJSONText($0, asciiOnly: true) }) else { return nil }
        return Self.head.count + sid.utf8.count + self.tails[Self.index(upgradesToWebSocket: upgradesToWebSocket, isV3: isV3)].count
    }

    /// Appends the JSON `length` measured.
    func append(sid: String, upgradesToWebSocket: Bool, isV3: Bool, to out: inout [UInt8]) {
        out.append(contentsOf: Self.head)
        var sid = sid
        sid.withUTF8 { out.append(contentsOf: $0) }
        out.append(contentsOf: self.tails[Self.index(upgradesToWebSocket: upgradesToWebSocket, isV3: isV3)])
    }
}
