/// The Redis channels of one namespace (`K` the key prefix, `N` the namespace name):
/// `K#N#` broadcasts, `K#N#room#` broadcasts to one room, `K-request#N#` requests, `K-response#N#`
/// responses, `K-response#N#uid#` responses for the node with that adapter uid.
public struct RedisAdapterChannels: Sendable, Hashable {
    /// Broadcasts to everyone or to several rooms; also the prefix of the room channels.
    public let broadcast: String
    /// Requests between nodes.
    public let request: String
    /// Responses, by default.
    public let response: String

    /// The channels for namespace `namespace` under key prefix `key`.
    public init(key: String, namespace: String) {
        self.broadcast = key + "#" + namespace + "#"
        self.request = key + "-request#" + namespace + "#"
        self.response = key + "-response#" + namespace + "#"
    }

    /// The pattern the subscriber uses for every broadcast of the namespace.
    public var broadcastPattern: String { self.broadcast + "*" }

    /// The channel of a broadcast addressed to exactly `room`.
    public func room(_ room: String) -> String { self.broadcast + room + "#" }

    /// The channel of a broadcast to `rooms`: the room's own channel for exactly one, else the general one.
    public func broadcastChannel(rooms: [String]) -> String {
        rooms.count == 1 ? self.room(rooms[0]) : self.broadcast
    }

    /// The response channel of the node whose adapter uid is `uid`.
    public func specificResponse(uid: String) -> String { self.response + uid + "#" }

    /// The room part of a broadcast channel: "" for the general channel, nil for another namespace's channel.
    public func roomPart(ofBroadcastChannel channel: String) -> String? {
        guard channel.hasPrefix(self.broadcast) else { return nil }
        let rest = channel.utf8.dropFirst(self.broadcast.utf8.count)
        guard let last = rest.last else { return "" }
        guard last == UInt8(ascii: "#") else { return nil }
        return String(decoding: rest.dropLast(), as: UTF8.self)
    }
}
