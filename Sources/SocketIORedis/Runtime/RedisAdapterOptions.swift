import Redis

/// Settings of the Redis adapter, with the defaults of `@socket.io/redis-adapter` 8.3.
public struct RedisAdapterOptions: Sendable {
    /// Prefix of every channel (`K` in `K#N#`).
    public var key = "socket.io"
    /// How long a request waits for the other nodes' answers (fetchSockets, allRooms, serverSideEmit with
    /// acknowledgements, and the remote part of a broadcast with acknowledgements but no timeout); 0 or less
    /// means the default, as in Node.
    public var requestsTimeoutMillis = 5_000
    /// Whether responses go to the asking node's own channel `K-response#N#uid#` instead of `K-response#N#`.
    public var publishOnSpecificResponseChannel = false
    /// Called with each connection's state changes (`"pub"` or `"sub"`), on the adapter's loop.
    public var onConnectionStateChange: (@Sendable (_ connection: String, _ state: RedisConnectionState) -> Void)?
    /// Adjusts the Redis connection settings made from the URL (timeouts, TLS, reconnect delays).
    public var configureRedis: (@Sendable (inout RedisConfiguration) -> Void)?

    /// Node's defaults.
    public init() {}
}
