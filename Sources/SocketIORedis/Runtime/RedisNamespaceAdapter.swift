import Redis
import SocketIO
import Synchronization
import Transport

/// The adapter of one namespace on one node: local rooms and delivery through an `InMemoryAdapter`, plus the
/// cluster part over Redis with the wire format of `@socket.io/redis-adapter` 8.3.
///
/// Everything received from Redis, and every request in flight, is handled on the Redis connections' loop;
/// deliveries to sockets go through the in-memory adapter, which hops to each socket's loop.
final class RedisNamespaceAdapter: SocketAdapter {
    let namespace: String
    /// This adapter's id in the cluster (6 random letters and digits), in every message it publishes.
    let uid: String
    let channels: RedisAdapterChannels
    let options: RedisAdapterOptions
    let local: InMemoryAdapter
    let client: RedisClient
    let subscriber: RedisSubscriber
    let loop: EventLoop
    let roomCounts = RoomCounts()
    let pending: PendingRequests
    private let serverSideHandler = Mutex<(@Sendable ([JSONValue], (@Sendable (JSONValue) -> Void)?) -> Void)?>(nil)
    private let closed = Mutex(false)
    private let closeHandler = Mutex<(@Sendable () -> Void)?>(nil)

    /// Called once when the adapter closes (the cluster forgets it).
    var onClose: (@Sendable () -> Void)? {
        get { self.closeHandler.withLock { $0 } }
        set { self.closeHandler.withLock { $0 = newValue } }
    }

    init(namespace: String, options: RedisAdapterOptions, client: RedisClient, subscriber: RedisSubscriber, loop: EventLoop) {
        self.namespace = namespace
        self.uid = RandomIdentifier.make()
        self.channels = RedisAdapterChannels(key: options.key, namespace: namespace)
        self.options = options
        self.local = InMemoryAdapter(namespace: namespace)
        self.client = client
        self.subscriber = subscriber
        self.loop = loop
        self.pending = PendingRequests(loop: loop)
    }

    /// The channels the subscriber listens on, in Node's order: the broadcast pattern, then the request,
    /// response and own response channels.
    var subscribedChannels: [String] {
        [self.channels.request, self.channels.response, self.channels.specificResponse(uid: self.uid)]
    }

    func subscribe() {
        self.subscriber.psubscribe([self.channels.broadcastPattern])
        self.subscriber.subscribe(self.subscribedChannels)
    }

    // MARK: Membership (socket's loop)

    func addAll(_ socket: Socket, rooms: Set<String>) {
        let before = self.local.socketRooms(socket)
        self.local.addAll(socket, rooms: rooms)
        self.roomCounts.add(rooms.subtracting(before))
    }

    func del(_ socket: Socket, room: String) {
        guard self.local.socketRooms(socket).contains(room) else { return }
        self.local.del(socket, room: room)
        self.roomCounts.remove([room])
    }

    func delAll(_ socket: Socket) {
        let before = self.local.socketRooms(socket)
        self.local.delAll(socket)
        self.roomCounts.remove(before)
    }

    func socketRooms(_ socket: Socket) -> Set<String> {
        self.local.socketRooms(socket)
    }

    func forEachLocalSocket(_ options: SocketBroadcastOptions, _ body: @escaping @Sendable (Socket) -> Void,
                            completion: (@Sendable () -> Void)?) {
        self.local.forEachLocalSocket(options, body, completion: completion)
    }

    func sockets(in rooms: Set<String>, completion: @escaping @Sendable (Set<String>) -> Void) {
        // As in Node's 8.x adapter: this server's sockets only.
        self.local.sockets(in: rooms, completion: completion)
    }

    // MARK: Broadcasts

    func broadcast(_ packet: SocketBroadcastPacket, options: SocketBroadcastOptions) {
        if !options.flags.local {
            let rooms = options.rooms.sorted()
            let message = RedisBroadcastMessage(
                uid: self.uid, packet: RedisEventPacket(event: packet.event, arguments: packet.arguments, namespace: self.namespace),
                rooms: rooms, except: options.except.sorted(), flags: RedisBroadcastFlags(options.flags))
            self.client.publish(self.channels.broadcastChannel(rooms: rooms), message.encode())
        }
        self.local.broadcast(packet, options: options)
    }

    func broadcastWithAck(_ packet: SocketBroadcastPacket, options: SocketBroadcastOptions,
                          clientCount: @escaping @Sendable (Int) -> Void,
                          ack: @escaping @Sendable (Result<[JSONValue], SocketAckError>) -> Void) {
        if !options.flags.local {
            let requestId = RandomIdentifier.make()
            let request = RedisRequest.broadcast(
                uid: self.uid, requestId: requestId,
                packet: RedisEventPacket(event: packet.event, arguments: packet.arguments, namespace: self.namespace),
                target: RedisTarget(options), flags: RedisBroadcastFlags(options.flags))
            let keepMillis = options.flags.timeoutMillis ?? self.options.requestsTimeoutMillis
            let payload = request.encode()
            self.onLoop { adapter in
                // Registered before publishing: answers come back on this loop, after this task.
                adapter.pending.addAck(PendingAck(clientCount: clientCount, ack: ack), id: requestId, timeoutMillis: keepMillis)
                adapter.client.publish(adapter.channels.request, payload)
            }
        }
        self.local.broadcastWithAck(packet, options: options, clientCount: clientCount, ack: ack)
    }

    var remoteAckWaitMillis: Int? { self.options.requestsTimeoutMillis }

    // MARK: Bulk operations (they act when the request comes back through the subscription, as in Node)

    func addSockets(_ options: SocketBroadcastOptions, rooms: Set<String>) {
        if options.flags.local { return self.local.addSockets(options, rooms: rooms) }
        self.publishRequest(.join(uid: self.uid, target: RedisTarget(options), rooms: rooms.sorted()))
    }

    func delSockets(_ options: SocketBroadcastOptions, rooms: Set<String>) {
        if options.flags.local { return self.local.delSockets(options, rooms: rooms) }
        self.publishRequest(.leave(uid: self.uid, target: RedisTarget(options), rooms: rooms.sorted()))
    }

    func disconnectSockets(_ options: SocketBroadcastOptions, close: Bool) {
        if options.flags.local { return self.local.disconnectSockets(options, close: close) }
        self.publishRequest(.disconnect(uid: self.uid, target: RedisTarget(options), close: close))
    }

    // MARK: Queries across nodes

    func fetchSockets(_ options: SocketBroadcastOptions, completion: @escaping @Sendable ([SocketSnapshot]) -> Void) {
        self.local.fetchSockets(options) { localSockets in
            if options.flags.local { return completion(localSockets) }
            self.numberOfSubscribers { count in
                guard count > 1 else { return completion(localSockets) }
                let requestId = RandomIdentifier.make()
                let request = PendingRequest(kind: .fetch(found: localSockets, done: completion), awaited: count - 1)
                self.pending.add(request, id: requestId, timeoutMillis: self.options.requestsTimeoutMillis)
                self.client.publish(self.channels.request,
                                    RedisRequest.fetch(uid: self.uid, requestId: requestId, target: RedisTarget(options)).encode())
            }
        }
    }

    func allRooms(completion: @escaping @Sendable (Set<String>) -> Void) {
        let localRooms = self.roomCounts.rooms
        self.numberOfSubscribers { count in
            guard count > 1 else { return completion(localRooms) }
            let requestId = RandomIdentifier.make()
            let request = PendingRequest(kind: .allRooms(found: localRooms, done: completion), awaited: count - 1)
            self.pending.add(request, id: requestId, timeoutMillis: self.options.requestsTimeoutMillis)
            self.client.publish(self.channels.request, RedisRequest.allRooms(uid: self.uid, requestId: requestId).encode())
        }
    }

    func serverCount(completion: @escaping @Sendable (Int) -> Void) {
        self.numberOfSubscribers(completion)
    }

    // MARK: Server-side events

    func serverSideEmit(_ packet: [JSONValue], timeoutMillis: Int?,
                        ack: (@Sendable (_ error: SocketAckError?, _ responses: [JSONValue]) -> Void)?) {
        guard let ack else {
            return self.publishRequest(.serverSideEmit(uid: self.uid, requestId: nil, data: packet))
        }
        self.numberOfSubscribers { count in
            let others = count - 1
            guard others > 0 else { return ack(nil, []) }
            let requestId = RandomIdentifier.make()
            let request = PendingRequest(kind: .serverSideEmit(responses: [], done: ack), awaited: others)
            self.pending.add(request, id: requestId, timeoutMillis: timeoutMillis ?? self.options.requestsTimeoutMillis)
            self.client.publish(self.channels.request,
                                RedisRequest.serverSideEmit(uid: self.uid, requestId: requestId, data: packet).encode())
        }
    }

    func onServerSideEmit(_ handler: @escaping @Sendable ([JSONValue], (@Sendable (JSONValue) -> Void)?) -> Void) {
        self.serverSideHandler.withLock { $0 = handler }
    }

    func deliverServerSideEvent(_ args: [JSONValue], ack: (@Sendable (JSONValue) -> Void)?) {
        let handler = self.serverSideHandler.withLock { $0 }
        handler?(args, ack)
    }

    // MARK: Closing

    func close() {
        let alreadyClosed = self.closed.withLock { closed in
            defer { closed = true }
            return closed
        }
        guard !alreadyClosed else { return }
        // Node's order (node-redis 4 unsubscribes one channel at a time).
        self.subscriber.punsubscribe([self.channels.broadcastPattern])
        for channel in self.subscribedChannels { self.subscriber.unsubscribe([channel]) }
        self.onLoop { $0.pending.finishAll() }
        self.local.close()
        self.onClose?()
    }

    // MARK: Helpers

    func publishRequest(_ request: RedisRequest) {
        self.client.publish(self.channels.request, request.encode())
    }

    /// Runs `body` on the adapter's loop (now when already there).
    func onLoop(_ body: @escaping @Sendable (RedisNamespaceAdapter) -> Void) {
        self.loop.executeOrRun { body(self) }
    }

    /// `PUBSUB NUMSUB K-request#N#`: the number of nodes of this namespace, this one included. Reports on the
    /// adapter's loop; a failed command counts as this node alone.
    func numberOfSubscribers(_ completion: @escaping @Sendable (Int) -> Void) {
        self.client.send(["PUBSUB", "NUMSUB", RedisArgument(self.channels.request)]) { result in
            completion(Self.subscriberCount(result))
        }
    }

    static func subscriberCount(_ result: Result<RESPValue, any Error>) -> Int {
        guard case .success(let reply) = result else { return 1 }
        switch reply {
        case .array(let parts) where parts.count >= 2:
            return Self.integer(parts[1]) ?? 1
        case .map(let pairs):
            return pairs.first.flatMap { Self.integer($0.1) } ?? 1
        default:
            return 1
        }
    }

    private static func integer(_ value: RESPValue) -> Int? {
        switch value {
        case .integer(let number): return Int(number)
        case .bulkString(let bytes): return Int(String(decoding: bytes, as: UTF8.self))
        case .simpleString(let text): return Int(text)
        default: return nil
        }
    }
}
