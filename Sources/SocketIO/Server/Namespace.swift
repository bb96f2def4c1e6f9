import Synchronization

/// Events of a namespace.
public enum NamespaceEvent: Sendable, Hashable {
    /// A socket connected (after the middlewares let it in).
    case connection
    /// Same as `connection` (Node's alias).
    case connect
}

/// A middleware: inspects a connecting socket and calls `next(nil)` to admit it or `next(error)` to refuse
/// it. It runs on the socket's loop; `next` may be called later and from any thread.
public typealias NamespaceMiddleware = @Sendable (_ socket: Socket, _ next: @escaping @Sendable (SocketConnectError?) -> Void) -> Void

/// A namespace (`/`, `/chat`): its connection handlers, middlewares and sockets (held by its adapter).
///
/// Shared by every loop. Handlers and middlewares are meant to be registered at setup; they are guarded by
/// a lock so that registering later is safe, and read once per connection, never per message.
public final class Namespace: Sendable {
    /// The name, starting with `/`.
    public let name: String
    /// Rooms and fan-out.
    public let adapter: any SocketAdapter
    /// Connection state recovery settings, nil when it is off.
    public let recovery: ConnectionStateRecoveryOptions?
    let registrations: Mutex<Registrations>
    private let whenEmpty: (@Sendable (Namespace) -> Void)?

    struct Registrations {
        var connectionHandlers: [@Sendable (Socket) -> Void] = []
        var middlewares: [NamespaceMiddleware] = []
        var serverSideHandlers: [String: [ServerSideEventHandler]] = [:]
    }

    init(name: String, adapterFactory: SocketAdapterFactory, recovery: ConnectionStateRecoveryOptions? = nil,
         registrations: Registrations = Registrations(), whenEmpty: (@Sendable (Namespace) -> Void)? = nil) {
        self.name = name
        self.adapter = adapterFactory(name)
        self.recovery = recovery
        if let recovery { self.adapter.enableRecovery(recovery) }
        self.registrations = Mutex(registrations)
        self.whenEmpty = whenEmpty
        self.adapter.onServerSideEmit { [weak self] args, ack in
            self?.receiveServerSideEvent(args, ack: ack)
        }
    }

    // MARK: Registration

    /// Calls `handler` on the socket's loop for each socket that connects.
    public func on(_ event: NamespaceEvent, _ handler: @escaping @Sendable (Socket) -> Void) {
        self.registrations.withLock { $0.connectionHandlers.append(handler) }
    }

    /// Same as `on(.connection, handler)`.
    public func onConnection(_ handler: @escaping @Sendable (Socket) -> Void) {
        self.on(.connection, handler)
    }

    /// Adds a middleware; middlewares run in order for each connecting socket.
    public func use(_ middleware: @escaping NamespaceMiddleware) {
        self.registrations.withLock { $0.middlewares.append(middleware) }
    }

    // MARK: Broadcasting

    /// Every socket of the namespace.
    public var all: BroadcastOperator { BroadcastOperator(namespace: self) }
    /// Sockets in `room`.
    public func to(_ room: String) -> BroadcastOperator { self.all.to(room) }
    /// Sockets in any of `rooms`.
    public func to(_ rooms: [String]) -> BroadcastOperator { self.all.to(rooms) }
    /// Same as `to`.
    public func `in`(_ room: String) -> BroadcastOperator { self.all.to(room) }
    /// Same as `to`.
    public func `in`(_ rooms: [String]) -> BroadcastOperator { self.all.to(rooms) }
    /// Every socket but the members of `room`.
    public func except(_ room: String) -> BroadcastOperator { self.all.except(room) }
    /// Every socket but the members of `rooms`.
    public func except(_ rooms: [String]) -> BroadcastOperator { self.all.except(rooms) }
    /// Skips sockets whose transport is busy.
    public var volatile: BroadcastOperator { self.all.volatile }
    /// Only this server's sockets.
    public var local: BroadcastOperator { self.all.local }
    /// `compress(false)` sends the next packets uncompressed over permessage-deflate WebSockets.
    public func compress(_ compress: Bool) -> BroadcastOperator { self.all.compress(compress) }
    /// Waits at most `millis` for acknowledgements.
    @available(*, deprecated, message: "use timeout(.milliseconds(n)) (a Duration, as the client takes)")
    public func timeout(_ millis: Int) -> BroadcastOperator { self.all.timeout(millis) }

    /// Sends `event` to every socket.
    @discardableResult
    public func emit(_ event: String, _ args: JSONValue...) -> Bool { self.all.emit(event, arguments: args) }

    /// Sends `event` with `arguments` to every socket.
    @discardableResult
    public func emit(_ event: String, arguments: [JSONValue]) -> Bool { self.all.emit(event, arguments: arguments) }

    /// Snapshots of every socket.
    public func fetchSockets() async -> [RemoteSocket] { await self.all.fetchSockets() }

    /// Makes every socket join `rooms`.
    public func socketsJoin(_ rooms: String...) { self.all.socketsJoin(rooms) }

    /// Makes every socket leave `rooms`.
    public func socketsLeave(_ rooms: String...) { self.all.socketsLeave(rooms) }

    /// Disconnects every socket; with `close`, closes their connections too.
    public func disconnectSockets(close: Bool = false) { self.all.disconnectSockets(close: close) }

    // MARK: Connections (client's loop)

    /// Creates a socket for `client` (its old session's, when the client recovers one), runs the middlewares
    /// (unless a recovered socket may skip them), then connects it or refuses it.
    func add(_ client: SocketServerClient, auth: JSONValue) {
        guard let recovery = self.recovery, case .string(let pid)? = auth["pid"], case .string(let offset)? = auth["offset"] else {
            let socket = Socket(namespace: self, client: client, auth: auth)
            let middlewares = self.registrations.withLock { $0.middlewares }
            // Without middlewares the socket connects now: no chain to run and no CONNECT to wait for.
            if middlewares.isEmpty {
                if client.isOpen { self.connect(socket, client: client, restored: nil) }
                return
            }
            client.beginConnecting(self.name)
            return self.admit(socket, client: client, middlewares: middlewares, restored: nil)
        }
        client.beginConnecting(self.name)
        self.adapter.restoreSession(pid: pid, offset: offset) { restored in
            client.loop.execute {
                guard client.isOpen else { return client.endConnecting(self.name) }
                let socket = Socket(namespace: self, client: client, auth: auth, restoring: restored?.session)
                let runMiddlewares = restored == nil || !recovery.skipMiddlewares
                let middlewares = runMiddlewares ? self.registrations.withLock { $0.middlewares } : []
                self.admit(socket, client: client, middlewares: middlewares, restored: restored)
            }
        }
    }

    /// Runs `middlewares` (possibly asynchronous; the client is marked as connecting here meanwhile), then
    /// connects the socket or refuses it.
    private func admit(_ socket: Socket, client: SocketServerClient, middlewares: [NamespaceMiddleware],
                       restored: RecoveredSocketSession?) {
        MiddlewareRun(subject: socket, loop: socket.loop, middlewares: middlewares) { error in
            client.endConnecting(self.name)
            guard client.isOpen else { return }
            if let error {
                let packet = client.connectErrorPacket(namespace: self.name, error: error)
                if let encoded = OutgoingPacket.control(packet) { client.write(encoded, volatile: false) }
                return
            }
            self.connect(socket, client: client, restored: restored)
        }.start()
    }

    /// The socket is in: joins its rooms, answers the CONNECT, then the connection handlers run.
    private func connect(_ socket: Socket, client: SocketServerClient, restored: RecoveredSocketSession?) {
        if let restored {
            socket.didConnect(rooms: restored.session.rooms, missed: restored.missedPackets)
        } else {
            socket.didConnect()
        }
        client.register(socket)
        let handlers = self.registrations.withLock { $0.connectionHandlers }
        for handler in handlers { handler(socket) }
    }

    /// Called after a socket left; lets a dynamic child namespace remove itself when it became empty.
    func socketDidLeave(_ socket: Socket) {
        guard let whenEmpty = self.whenEmpty else { return }
        self.adapter.sockets(in: []) { ids in
            if ids.isEmpty { whenEmpty(self) }
        }
    }

    func copyRegistrations() -> Registrations {
        self.registrations.withLock { $0 }
    }

    /// Drops every handler and middleware (the server is gone): an application's handlers usually refer to
    /// the server that holds them, a cycle that kept both after a stopped app was dropped.
    func releaseRegistrations() {
        self.registrations.withLock { $0 = Registrations() }
    }
}

