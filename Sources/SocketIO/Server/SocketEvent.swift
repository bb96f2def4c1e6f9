/// The arguments of an event: decoded values plus, when they arrived as plain JSON text, that text, so that
/// relaying them (`socket.emit("echo", event.arguments)`) copies bytes instead of serialising again.
public struct SocketArguments: Sendable, RandomAccessCollection {
    /// The decoded values (binary attachments already in place).
    public let values: [JSONValue]
    /// The packet's payload text; nil for locally built arguments and for packets with attachments (whose
    /// text holds placeholders).
    let raw: SocketRawData?
    /// Index, among the raw payload's top-level elements, of `values[0]`.
    let rawStart: Int

    /// Arguments built locally (always serialised when sent).
    public init(_ values: [JSONValue]) {
        self.values = values
        self.raw = nil
        self.rawStart = 0
    }

    init(values: [JSONValue], raw: SocketRawData?, rawStart: Int) {
        self.values = values
        self.raw = raw
        self.rawStart = rawStart
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { self.values.count }
    public subscript(position: Int) -> JSONValue { self.values[position] }

    /// The arguments without the first `count` (keeps the raw text for what is left).
    public func dropping(first count: Int) -> SocketArguments {
        let n = Swift.min(Swift.max(0, count), self.values.count)
        return SocketArguments(values: Array(self.values.dropFirst(n)), raw: self.raw, rawStart: self.rawStart + n)
    }

    /// The comma-separated JSON text of the values as received, when available.
    var rawText: ArraySlice<UInt8>? {
        guard let raw = self.raw else { return nil }
        if self.values.isEmpty { return raw.bytes[raw.bytes.endIndex...] }
        return raw.elements(from: self.rawStart)
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
