import SocketIO

/// The `flags` of a broadcast on the wire: only the ones set are written, in this order.
public struct RedisBroadcastFlags: Sendable, Hashable {
    /// Skip clients whose transport is busy.
    public var volatile: Bool?
    /// Compression wish.
    public var compress: Bool?
    /// Milliseconds to wait for acknowledgements.
    public var timeoutMillis: Int?
    /// Node's RemoteSocket emits: one answer expected.
    public var expectSingleResponse: Bool?

    /// No flag.
    public init(volatile: Bool? = nil, compress: Bool? = nil, timeoutMillis: Int? = nil,
                expectSingleResponse: Bool? = nil) {
        self.volatile = volatile
        self.compress = compress
        self.timeoutMillis = timeoutMillis
        self.expectSingleResponse = expectSingleResponse
    }

    /// The flags a Node server would publish for a broadcast made with `flags`.
    public init(_ flags: SocketBroadcastFlags) {
        self.volatile = flags.volatile ? true : nil
        self.compress = flags.compress
        self.timeoutMillis = flags.timeoutMillis
        self.expectSingleResponse = flags.expectSingleResponse ? true : nil
    }

    /// The flags as the server's broadcast options (`local` is never carried).
    public var socketFlags: SocketBroadcastFlags {
        var flags = SocketBroadcastFlags()
        flags.volatile = self.volatile ?? false
        flags.compress = self.compress
        flags.timeoutMillis = self.timeoutMillis
        flags.expectSingleResponse = self.expectSingleResponse ?? false
        return flags
    }

    /// The wire map.
    public var json: JSONValue {
        var pairs: [(String, JSONValue)] = []
        if let volatile = self.volatile { pairs.append(("volatile", .bool(volatile))) }
        if let compress = self.compress { pairs.append(("compress", .bool(compress))) }
        if let timeout = self.timeoutMillis { pairs.append(("timeout", .int(Int64(timeout)))) }
        if let single = self.expectSingleResponse { pairs.append(("expectSingleResponse", .bool(single))) }
        return .object(JSONObject(pairs))
    }

    /// Reads the known flags of a wire map (others are ignored).
    public init(json: JSONValue?) {
        self.volatile = json?["volatile"]?.boolValue
        self.compress = json?["compress"]?.boolValue
        self.timeoutMillis = json?["timeout"]?.intValue
        self.expectSingleResponse = json?["expectSingleResponse"]?.boolValue
    }
}

/// Which sockets a request targets on the wire: `opts: {rooms, except}` (all sockets when `rooms` is empty).
public struct RedisTarget: Sendable, Hashable {
    /// Targeted rooms.
    public var rooms: [String]
    /// Rooms whose members are left out.
    public var except: [String]

    /// A target.
    public init(rooms: [String] = [], except: [String] = []) {
        self.rooms = rooms
        self.except = except
    }

    /// The target of server options (rooms sorted, so the bytes do not depend on set order).
    public init(_ options: SocketBroadcastOptions) {
        self.rooms = options.rooms.sorted()
        self.except = options.except.sorted()
    }

    /// `{rooms, except}`.
    public var json: JSONValue {
        .object(JSONObject([("rooms", .array(self.rooms.map(JSONValue.string))),
                            ("except", .array(self.except.map(JSONValue.string)))]))
    }

    /// Reads `{rooms, except}`; missing or non-string entries are skipped.
    public init(json: JSONValue?) {
        self.rooms = RedisTarget.strings(json?["rooms"])
        self.except = RedisTarget.strings(json?["except"])
    }

    /// The server options that select the same sockets.
    public func options(flags: SocketBroadcastFlags = SocketBroadcastFlags()) -> SocketBroadcastOptions {
        SocketBroadcastOptions(rooms: Set(self.rooms), except: Set(self.except), flags: flags)
    }

    static func strings(_ json: JSONValue?) -> [String] {
        guard case .array(let elements)? = json else { return [] }
        return elements.compactMap { element in
            switch element {
            case .string(let text): return text
            // Node allows numeric rooms; they travel as numbers and match their decimal text.
            case .int(let number): return String(number)
            default: return nil
            }
        }
    }
}
