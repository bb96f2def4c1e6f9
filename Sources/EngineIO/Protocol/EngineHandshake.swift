/// The data of the `open` packet that starts an Engine.IO v4 session.
///
/// The JSON is written by hand, in the key order Node's engine.io uses (`sid`, `upgrades`, `pingInterval`,
/// `pingTimeout`, `maxPayload`), so responses are byte-identical to the reference server and no
/// Foundation JSON encoder runs per connection.
public struct EngineHandshake: Sendable, Hashable {
    /// The session id.
    public var sid: String
    /// Transports the client may upgrade to (`["websocket"]` on polling, `[]` on WebSocket).
    public var upgrades: [String]
    /// Milliseconds between server pings.
    public var pingInterval: Int
    /// Milliseconds the server waits for a pong before closing the session.
    public var pingTimeout: Int
    /// Largest payload, in bytes, the server accepts.
    public var maxPayload: Int
    /// False for an Engine.IO v3 client, whose open packet has no `maxPayload`.
    public var includesMaxPayload = true

    /// A handshake with Node's defaults for any value not given (25 s interval, 20 s timeout, 1 MB).
    public init(
        sid: String,
        upgrades: [String] = ["websocket"],
        pingInterval: Int = 25_000,
        pingTimeout: Int = 20_000,
        maxPayload: Int = 1_000_000,
        includesMaxPayload: Bool = true
    ) {
        self.includesMaxPayload = includesMaxPayload
        self.sid = sid
        self.upgrades = upgrades
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.maxPayload = maxPayload
    }

    /// The handshake JSON as UTF-8 bytes.
    public var jsonBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(96 + self.sid.utf8.count)
        out.append(contentsOf: #"{"sid":"#.utf8)
        JSONStringEscaping.appendQuoted(self.sid, to: &out)
        out.append(contentsOf: #","upgrades":["#.utf8)
        for (index, upgrade) in self.upgrades.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONStringEscaping.appendQuoted(upgrade, to: &out)
        }
        out.append(contentsOf: #"],"pingInterval":"#.utf8)
        Self.appendDecimal(self.pingInterval, to: &out)
        out.append(contentsOf: #","pingTimeout":"#.utf8)
        Self.appendDecimal(self.pingTimeout, to: &out)
        if self.includesMaxPayload {
            out.append(contentsOf: #","maxPayload":"#.utf8)
            Self.appendDecimal(self.maxPayload, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Appends `value` in decimal, with no String in between (this runs three times per new session).
    private static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for the 20 digits of UInt64.max
        withUnsafeMutableBytes(of: &digits) { raw in
            var start = raw.count
            repeat {
                start -= 1
                raw[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[start...]))
        }
    }

    /// The handshake JSON as a `String`.
    public var json: String { String(decoding: self.jsonBytes, as: UTF8.self) }

    /// The `open` packet carrying this handshake.
    public var openPacket: EnginePacket { EnginePacket(type: .open, textBytes: self.jsonBytes) }
}
