import Redis
import SocketIO
import Transport

/// Emits to the clients of a Socket.IO cluster from a process that runs no server (a job, a CLI), as
/// `@socket.io/redis-emitter` 5 does: it only publishes, so Node and Swift nodes both deliver.
///
///     let emitter = try RedisEmitter(url: "redis://127.0.0.1:6379", loop: group.next())
///     emitter.to("room").emit("news", "hello")
///     emitter.of("/admin").volatile.emit("tick", 1)
///     emitter.in("r1").socketsJoin("r2")
///
/// `of(_:)` gives an emitter for another namespace on the same connection; `close()` on any of them closes
/// that connection.
public final class RedisEmitter: Sendable {
    /// The namespace emitted to.
    public let namespace: String
    /// The channel prefix (`socket.io` by default, as the servers use).
    public let key: String
    let client: RedisClient

    /// An emitter for namespace `/` on the Redis at `url`.
    public init(url: String, key: String = "socket.io", loop: EventLoop,
                configure: ((inout RedisConfiguration) -> Void)? = nil) throws {
        var configuration = try RedisConfiguration(url: url)
        configure?(&configuration)
        self.client = RedisClient(configuration: configuration, loop: loop)
        self.namespace = "/"
        self.key = key
        self.client.connect()
    }

    /// An emitter for namespace `namespace` on an existing connection.
    public init(client: RedisClient, namespace: String = "/", key: String = "socket.io") {
        self.client = client
        self.namespace = namespace.hasPrefix("/") ? namespace : "/" + namespace
        self.key = key
    }

    /// The emitter of another namespace, on the same connection.
    public func of(_ namespace: String) -> RedisEmitter {
        RedisEmitter(client: self.client, namespace: namespace, key: self.key)
    }

    /// Every client of the namespace.
    public var all: RedisEmitterOperator { RedisEmitterOperator(emitter: self) }
    /// Clients in `room`.
    public func to(_ room: String) -> RedisEmitterOperator { self.all.to(room) }
    /// Clients in any of `rooms`.
    public func to(_ rooms: [String]) -> RedisEmitterOperator { self.all.to(rooms) }
    /// Same as `to`.
    public func `in`(_ room: String) -> RedisEmitterOperator { self.all.to(room) }
    /// Same as `to`.
    public func `in`(_ rooms: [String]) -> RedisEmitterOperator { self.all.to(rooms) }
    /// Every client but the members of `room`.
    public func except(_ room: String) -> RedisEmitterOperator { self.all.except(room) }
    /// Every client but the members of `rooms`.
    public func except(_ rooms: [String]) -> RedisEmitterOperator { self.all.except(rooms) }
    /// Clients whose transport is not busy.
    public var volatile: RedisEmitterOperator { self.all.volatile }
    /// With a compression wish.
    public func compress(_ compress: Bool) -> RedisEmitterOperator { self.all.compress(compress) }

    /// Sends `event` to every client of the namespace; false for a reserved event name.
    @discardableResult
    public func emit(_ event: String, _ args: JSONValue...) -> Bool { self.all.emit(event, arguments: args) }

    /// Sends `event` with `arguments` to every client of the namespace.
    @discardableResult
    public func emit(_ event: String, arguments: [JSONValue]) -> Bool { self.all.emit(event, arguments: arguments) }

    /// Makes every socket of the namespace join `rooms`.
    public func socketsJoin(_ rooms: String...) { self.all.socketsJoin(rooms) }
    /// Makes every socket of the namespace leave `rooms`.
    public func socketsLeave(_ rooms: String...) { self.all.socketsLeave(rooms) }
    /// Disconnects every socket of the namespace; with `close`, closes their connections.
    public func disconnectSockets(close: Bool = false) { self.all.disconnectSockets(close: close) }

    /// Sends `event` to the server-side listeners of every server of the namespace (no answer possible).
    public func serverSideEmit(_ event: String, _ args: JSONValue...) {
        self.serverSideEmit(event, arguments: args)
    }

    /// Same, with an argument array.
    public func serverSideEmit(_ event: String, arguments: [JSONValue]) {
        self.publish(request: .serverSideEmit(uid: RedisEmitterOperator.uid, requestId: nil, data: [.string(event)] + arguments))
    }

    /// Sends QUIT once what was published is written, and closes the connection.
    public func close() {
        self.client.close()
    }

    var channels: RedisAdapterChannels { RedisAdapterChannels(key: self.key, namespace: self.namespace) }

    func publish(request: RedisRequest) {
        self.client.publish(self.channels.request, request.encode())
    }
}
