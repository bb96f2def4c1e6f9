/// The arguments of an event: decoded values plus, when they arrived as plain JSON text, that text, so that
/// relaying them (`socket.emit("echo", event.arguments)`) copies bytes instead of serialising again.
///
/// Arguments received as plain JSON are decoded only when read (`values`, `first`, a subscript): a handler
/// that only relays them never builds a `JSONValue`.
public struct SocketArguments: Sendable, RandomAccessCollection {
    /// Values decoded up front (locally built arguments, packets with binary attachments); nil when they
    /// are decoded on demand from `raw`.
    private let decoded: [JSONValue]?
    /// The packet's payload text; nil for locally built arguments and for packets with attachments (whose
    /// text holds placeholders).
    let raw: SocketRawData?
    /// Index, among the raw payload's top-level elements, of `values[0]`.
    let rawStart: Int

    /// Arguments built locally (always serialised when sent).
    public init(_ values: [JSONValue]) {
        self.decoded = values
        self.raw = nil
        self.rawStart = 0
    }

    init(values: [JSONValue], raw: SocketRawData?, rawStart: Int) {
        self.decoded = values
        self.raw = raw
        self.rawStart = rawStart
    }

    /// Arguments that are decoded from `raw` when read: its elements from `rawStart` on.
    init(raw: consuming SocketRawData, rawStart: Int) {
        self.decoded = nil
        self.rawStart = Swift.min(Swift.max(0, rawStart), raw.count)
        self.raw = raw
    }

    /// The decoded values (binary attachments already in place).
    public var values: [JSONValue] {
        if let decoded = self.decoded { return decoded }
        guard let raw = self.raw else { return [] }
        let ranges = raw.elementRanges
        var values: [JSONValue] = []
        values.reserveCapacity(ranges.count - self.rawStart)
        for index in self.rawStart..<ranges.count { values.append(Self.decode(raw.bytes[ranges[index]])) }
        return values
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int {
        if let decoded = self.decoded { return decoded.count }
        guard let raw = self.raw else { return 0 }
        return raw.count - self.rawStart
    }

    public subscript(position: Int) -> JSONValue {
        if let decoded = self.decoded { return decoded[position] }
        precondition(position >= 0 && position < self.endIndex, "SocketArguments index out of range")
        guard let element = self.raw?.element(self.rawStart + position) else { return .null }
        return Self.decode(element)
    }

    /// The arguments without the first `count` (keeps the raw text for what is left).
    public func dropping(first count: Int) -> SocketArguments {
        let n = Swift.min(Swift.max(0, count), self.count)
        guard let decoded = self.decoded else {
            return SocketArguments(raw: self.raw!, rawStart: self.rawStart + n)
        }
        return SocketArguments(values: Array(decoded.dropFirst(n)), raw: self.raw, rawStart: self.rawStart + n)
    }

    /// The comma-separated JSON text of the values as received, when available.
    var rawText: ArraySlice<UInt8>? {
        // Optional chaining reads `raw` in place (a `guard let` copies it, retains included).
        self.raw?.elements(from: self.rawStart)
    }

    /// One element of validated JSON text.
    private static func decode(_ element: ArraySlice<UInt8>) -> JSONValue {
        // The text was checked when the packet arrived, so parsing cannot fail here.
        (try? JSONParser.parse(element)) ?? .null
    }
}

/// One received event, as handed to `Socket.onEvent` handlers.
public struct SocketEvent: Sendable {
    /// The event name.
    public let name: String
    /// Its arguments.
    public let arguments: SocketArguments
    /// The acknowledgement the client asked for, if any.
    public let ack: SocketAck?

    /// The argument values.
    public var args: [JSONValue] { self.arguments.values }
}
