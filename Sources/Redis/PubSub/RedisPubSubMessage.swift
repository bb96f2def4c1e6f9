/// A message received on a subscribed channel or pattern.
public struct RedisPubSubMessage: Sendable {
    /// The channel it was published to.
    public let channel: String
    /// The pattern that matched, for messages received through PSUBSCRIBE; nil for SUBSCRIBE.
    public let pattern: String?
    /// The bytes published.
    public let payload: [UInt8]

    /// A message as delivered.
    public init(channel: String, pattern: String?, payload: [UInt8]) {
        self.channel = channel
        self.pattern = pattern
        self.payload = payload
    }

    /// Reads a `message` or `pmessage` event (RESP2 array or RESP3 push); nil for anything else
    /// (subscription confirmations, pongs).
    static func parse(_ value: RESPValue) -> RedisPubSubMessage? {
        let items: [RESPValue]
        switch value {
        case .array(let elements), .push(let elements): items = elements
        default: return nil
        }
        guard let kind = items.first, case .bulkString(let name) = kind else { return nil }
        if items.count == 3, Self.equals(name, "message"), let channel = items[1].bytes, let payload = items[2].bytes {
            return RedisPubSubMessage(channel: String(decoding: channel, as: UTF8.self), pattern: nil, payload: payload)
        }
        if items.count == 4, Self.equals(name, "pmessage"), let pattern = items[1].bytes, let channel = items[2].bytes,
           let payload = items[3].bytes {
            return RedisPubSubMessage(
                channel: String(decoding: channel, as: UTF8.self), pattern: String(decoding: pattern, as: UTF8.self),
                payload: payload)
        }
        return nil
    }

    private static func equals(_ bytes: [UInt8], _ text: StaticString) -> Bool {
        bytes.count == text.utf8CodeUnitCount
            && bytes.withUnsafeBufferPointer { $0.elementsEqual(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)) }
    }
}
