import Redis
import SocketIO
import Synchronization
import Transport

/// Joins a server to a Socket.IO cluster over Redis, wire-compatible with Node's `@socket.io/redis-adapter`
/// 8.3 (the classic pub/sub adapter): Node and Swift nodes on one Redis see each other's sockets, rooms and
/// broadcasts.
///
///     let cluster = try RedisAdapterCluster(url: "redis://127.0.0.1:6379", loop: group.next())
///     var options = SocketIOServerOptions()
///     options.adapter = cluster.adapterFactory
///     let io = SocketIOServer(engine: engine, options: options)
///
/// One per server: it owns a publishing connection and a subscribing connection, both on `loop`, where
/// everything received from Redis is handled. Each namespace gets its own adapter (with its own uid) when
/// the server creates it. Close the server first, then the cluster.
public final class RedisAdapterCluster: Sendable {
    /// The settings in force.
    public let options: RedisAdapterOptions
    /// The loop of both connections.
    public let loop: EventLoop
    private let client: RedisClient
    private let subscriber: RedisSubscriber
    private let router: RedisMessageRouter

    /// Connects to the Redis at `url` (`redis://`, `rediss://`, `unix://`); the connections retry by
    /// themselves while Redis is away, and the server keeps serving its own clients meanwhile.
    public init(url: String, options: RedisAdapterOptions = RedisAdapterOptions(), loop: EventLoop) throws {
        var configuration = try RedisConfiguration(url: url)
        options.configureRedis?(&configuration)
        let router = RedisMessageRouter()
        var options = options
        // As Node's `opts.requestsTimeout || 5000`: no timeout is not an option.
        if options.requestsTimeoutMillis <= 0 { options.requestsTimeoutMillis = 5_000 }
        self.options = options
        self.loop = loop
        self.router = router
        self.client = RedisClient(configuration: configuration, loop: loop)
        self.subscriber = RedisSubscriber(configuration: configuration, loop: loop) { message in
            router.route(message)
        }
        if let observe = options.onConnectionStateChange {
            self.client.onStateChange = { observe("pub", $0) }
            self.subscriber.onStateChange = { observe("sub", $0) }
        }
        self.client.connect()
        self.subscriber.connect()
    }

    /// The factory for `SocketIOServerOptions.adapter`.
    public var adapterFactory: SocketAdapterFactory {
        { [self] namespace in self.makeAdapter(namespace: namespace) }
    }

    /// The uid of the adapter of `namespace`, once the server created that namespace.
    public func uid(of namespace: String) -> String? {
        self.router.adapter(named: namespace)?.uid
    }

    /// Number of servers of the main namespace's cluster (subscribers of its request channel).
    public func serverCount(namespace: String = "/") async -> Int {
        let channels = RedisAdapterChannels(key: self.options.key, namespace: namespace)
        return await withCheckedContinuation { continuation in
            self.client.send(["PUBSUB", "NUMSUB", RedisArgument(channels.request)]) { result in
                continuation.resume(returning: RedisNamespaceAdapter.subscriberCount(result))
            }
        }
    }

    /// Unsubscribes every namespace still open and closes both connections (QUIT).
    public func close() {
        for adapter in self.router.all { adapter.close() }
        self.subscriber.close()
        self.client.close()
    }

    private func makeAdapter(namespace: String) -> any SocketAdapter {
        let adapter = RedisNamespaceAdapter(namespace: namespace, options: self.options, client: self.client,
                                            subscriber: self.subscriber, loop: self.loop)
        self.router.register(adapter)
        adapter.onClose = { [router] in router.unregister(adapter) }
        adapter.subscribe()
        return adapter
    }
}

/// Hands each message from the subscriber to the adapter whose channel or pattern it came on.
final class RedisMessageRouter: Sendable {
    private struct Routes {
        var byPattern: [String: RedisNamespaceAdapter] = [:]
        var requests: [String: RedisNamespaceAdapter] = [:]
        var responses: [String: RedisNamespaceAdapter] = [:]
        var byNamespace: [String: RedisNamespaceAdapter] = [:]
    }

    private let routes = Mutex(Routes())

    func register(_ adapter: RedisNamespaceAdapter) {
        self.routes.withLock { routes in
            // A namespace created again (a dynamic child after cleanup) replaces the old adapter.
            routes.byPattern[adapter.channels.broadcastPattern] = adapter
            routes.requests[adapter.channels.request] = adapter
            routes.responses[adapter.channels.response] = adapter
            routes.responses[adapter.channels.specificResponse(uid: adapter.uid)] = adapter
            routes.byNamespace[adapter.namespace] = adapter
        }
    }

    /// Forgets `adapter` (its namespace closed), unless a newer adapter took its namespace's routes.
    func unregister(_ adapter: RedisNamespaceAdapter) {
        self.routes.withLock { routes in
            routes.responses[adapter.channels.specificResponse(uid: adapter.uid)] = nil
            guard routes.byNamespace[adapter.namespace] === adapter else { return }
            routes.byPattern[adapter.channels.broadcastPattern] = nil
            routes.requests[adapter.channels.request] = nil
            routes.responses[adapter.channels.response] = nil
            routes.byNamespace[adapter.namespace] = nil
        }
    }

    func adapter(named namespace: String) -> RedisNamespaceAdapter? {
        self.routes.withLock { $0.byNamespace[namespace] }
    }

    var all: [RedisNamespaceAdapter] {
        self.routes.withLock { Array($0.byNamespace.values) }
    }

    func route(_ message: RedisPubSubMessage) {
        if let pattern = message.pattern {
            guard let adapter = self.routes.withLock({ $0.byPattern[pattern] }) else { return }
            adapter.receiveBroadcast(channel: message.channel, payload: message.payload)
            return
        }
        let (request, response) = self.routes.withLock { ($0.requests[message.channel], $0.responses[message.channel]) }
        if let request {
            request.receiveRequest(payload: message.payload)
        } else if let response {
            response.receiveResponse(payload: message.payload)
        }
    }
}
