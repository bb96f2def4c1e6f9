import EngineIO
import Synchronization

/// A Socket.IO v5 server on top of an `EngineServer` (Node's `io`).
///
///     let engine = EngineServer(options: .socketIO)
///     let io = SocketIOServer(engine: engine)
///     io.on(.connection) { socket in
///         socket.on("chat") { args, ack in socket.broadcast.emit("chat", arguments: args) }
///     }
///
/// Create it before the HTTP server starts: it installs itself as the engine's `onConnection`.
/// Every client is served on the loop of its Engine.IO session; namespaces and rooms are shared by all loops.
public final class SocketIOServer: Sendable {
    /// The Engine.IO server carrying the connections.
    public let engine: EngineServer
    /// The options in force.
    public let options: SocketIOServerOptions
    /// The main namespace, `/`.
    public let sockets: Namespace
    private let registry: Mutex<Registry>

    private struct Registry {
        var namespaces: [String: Namespace] = [:]
        var parents: [ParentNamespace] = []
    }

    /// A Socket.IO server on `engine` (it becomes the engine's `onConnection`).
    public init(engine: EngineServer, options: SocketIOServerOptions = SocketIOServerOptions()) {
        self.engine = engine
        self.options = options
        let main = Namespace(name: "/", adapterFactory: options.adapter, recovery: options.connectionStateRecovery)
        self.sockets = main
        self.registry = Mutex(Registry(namespaces: ["/": main]))
        engine.onConnection = { [weak self] session in
            guard let self else {
                session.close()
                return
            }
            let client = SocketServerClient(server: self, session: session)
            session.delegate = client
            if client.isV2 { client.connectImplicitly() }
        }
        if options.serveClient {
            let route = BrowserClientRoute(path: engine.options.path)
            engine.fileResponder = { head in route.response(to: head) }
        }
    }

    // MARK: Namespaces

    /// The namespace called `name` (a leading `/` is added when missing), created on first use.
    @discardableResult
    public func of(_ name: String) -> Namespace {
        let name = name.hasPrefix("/") ? name : "/" + name
        return self.registry.withLock { registry in
            if let existing = registry.namespaces[name] { return existing }
            let namespace = Namespace(name: name, adapterFactory: self.options.adapter,
                                      recovery: self.options.connectionStateRecovery)
            registry.namespaces[name] = namespace
            return namespace
        }
    }

    /// Dynamic namespaces: a child is created for each namespace name that `predicate` accepts (it gets the
    /// name and the client's auth payload; it runs on a loop thread, keep it quick).
    @discardableResult
    public func of(matching predicate: @escaping @Sendable (_ name: String, _ auth: JSONValue) -> Bool) -> ParentNamespace {
        let parent = ParentNamespace(matcher: predicate)
        self.registry.withLock { $0.parents.append(parent) }
        return parent
    }

    /// Dynamic namespaces whose names contain a match of `pattern` (a regular expression, as Node's
    /// `regex.test(name)`; anchor it with `^…$` to match whole names). Returns nil for an invalid pattern.
    @discardableResult
    public func of(pattern: String) -> ParentNamespace? {
        guard let regex = try? Regex(pattern) else { return nil }
        // Regex is not Sendable; the lock makes sharing it across loops safe (only unknown names get here).
        let shared = Mutex(regex)
        return self.of(matching: { name, _ in
            shared.withLock { name.contains($0) }
        })
    }

    /// An existing namespace, or a new dynamic child if a parent accepts the name; nil otherwise.
    func namespace(for name: String, auth: JSONValue) -> Namespace? {
        // The main namespace is registered for good at init: nearly every connection asks for it.
        if name == "/" { return self.sockets }
        let parents: [ParentNamespace] = self.registry.withLock { registry in
            registry.namespaces[name] == nil ? registry.parents : []
        }
        if parents.isEmpty {
            return self.registry.withLock { $0.namespaces[name] }
        }
        // User predicates run outside the lock.
        guard let parent = parents.first(where: { $0.matches(name, auth: auth) }) else {
            return self.registry.withLock { $0.namespaces[name] }
        }
        var whenEmpty: (@Sendable (Namespace) -> Void)?
        if self.options.cleanupEmptyChildNamespaces {
            whenEmpty = { [weak self, weak parent] child in
                parent?.removeChild(child)
                self?.forget(child)
                child.adapter.close()
            }
        }
        return self.registry.withLock { registry in
            if let existing = registry.namespaces[name] { return existing }
            let child = parent.createChild(name, adapterFactory: self.options.adapter,
                                           recovery: self.options.connectionStateRecovery, whenEmpty: whenEmpty)
            registry.namespaces[name] = child
            return child
        }
    }

    private func forget(_ child: Namespace) {
        self.registry.withLock { registry in
            if registry.namespaces[child.name] === child { registry.namespaces[child.name] = nil }
        }
    }

    /// Drops every namespace's handlers once the server has stopped for good (`SocketIOApp` after its
    /// shutdown, the tests' in-process servers), breaking the cycles of handlers that refer to the server.
    package func releaseHandlers() {
        let (namespaces, parents) = self.registry.withLock { (Array($0.namespaces.values), $0.parents) }
        for namespace in namespaces { namespace.releaseRegistrations() }
        for parent in parents {
            parent.releaseRegistrations()
            for child in parent.children { child.releaseRegistrations() }
        }
    }

    /// The namespaces that exist now (static and dynamic children).
    public var namespaces: [Namespace] {
        self.registry.withLock { Array($0.namespaces.values) }
    }

    // MARK: Shortcuts to the main namespace

    /// Calls `handler` for each socket connecting to `/`.
    public func on(_ event: NamespaceEvent, _ handler: @escaping @Sendable (Socket) -> Void) {
        self.sockets.on(event, handler)
    }

    /// Adds a middleware to `/`.
    public func use(_ middleware: @escaping NamespaceMiddleware) {
        self.sockets.use(middleware)
    }

    /// Sockets of `/` in `room`.
    public func to(_ room: String) -> BroadcastOperator { self.sockets.to(room) }
    /// Sockets of `/` in any of `rooms`.
    public func to(_ rooms: [String]) -> BroadcastOperator { self.sockets.to(rooms) }
    /// Same as `to`.
    public func `in`(_ room: String) -> BroadcastOperator { self.sockets.to(room) }
    /// Same as `to`.
    public func `in`(_ rooms: [String]) -> BroadcastOperator { self.sockets.to(rooms) }
    /// Sockets of `/` but the members of `room`.
    public func except(_ room: String) -> BroadcastOperator { self.sockets.except(room) }
    /// Sockets of `/` but the members of `rooms`.
    public func except(_ rooms: [String]) -> BroadcastOperator { self.sockets.except(rooms) }
    /// Sockets of `/`, skipping busy transports.
    public var volatile: BroadcastOperator { self.sockets.volatile }
    /// Sockets of `/` on this server.
    public var local: BroadcastOperator { self.sockets.local }
    /// Sockets of `/`, waiting at most `millis` for acknowledgements.
    @available(*, deprecated, message: "use timeout(.milliseconds(n)) (a Duration, as the client takes)")
    public func timeout(_ millis: Int) -> BroadcastOperator { self.sockets.timeout(millis) }
    /// Sockets of `/`; `compress(false)` sends the next packets uncompressed over permessage-deflate WebSockets.
    public func compress(_ compress: Bool) -> BroadcastOperator { self.sockets.compress(compress) }

    /// Sends `event` to every socket of `/`.
    @discardableResult
    public func emit(_ event: String, _ args: JSONValue...) -> Bool { self.sockets.emit(event, arguments: args) }

    /// Snapshots of the sockets of `/`.
    public func fetchSockets() async -> [RemoteSocket] { await self.sockets.fetchSockets() }

    /// Makes every socket of `/` join `rooms`.
    public func socketsJoin(_ rooms: String...) { self.sockets.all.socketsJoin(rooms) }

    /// Makes every socket of `/` leave `rooms`.
    public func socketsLeave(_ rooms: String...) { self.sockets.all.socketsLeave(rooms) }

    /// Disconnects every socket of `/`; with `close`, closes their connections too.
    public func disconnectSockets(close: Bool = false) { self.sockets.disconnectSockets(close: close) }

    /// Sends `event` to the server-side listeners of `/` on the other servers of the cluster.
    public func serverSideEmit(_ event: String, _ args: [JSONValue]) {
        self.sockets.serverSideEmit(event, args)
    }

    /// Same, gathering every other server's answer until `timeoutMillis` (see `Namespace`).
    public func serverSideEmitWithAck(_ event: String, _ args: [JSONValue], timeoutMillis: Int,
                                      completion: @escaping @Sendable (_ error: SocketAckError?, _ responses: [JSONValue]) -> Void) {
        self.sockets.serverSideEmitWithAck(event, args, timeoutMillis: timeoutMillis, completion: completion)
    }

    /// Listens on `/` for server-side events from other servers.
    public func onServerSideEvent(_ event: String,
                                  _ handler: @escaping @Sendable (_ args: [JSONValue], _ ack: (@Sendable (JSONValue) -> Void)?) -> Void) {
        self.sockets.onServerSideEvent(event, handler)
    }

    /// Number of servers in the cluster (1 without a cluster adapter).
    public func serverCount() async -> Int { await self.sockets.serverCount() }

    // MARK: Shutdown

    /// Disconnects every socket of every namespace with reason "server shutting down", then closes every
    /// Engine.IO session. Stop the HTTP server from accepting first.
    public func close() {
        for namespace in self.namespaces {
            namespace.adapter.forEachLocalSocket(SocketBroadcastOptions(), { socket in
                socket.close(reason: .serverShuttingDown)
            }, completion: nil)
            namespace.adapter.close()
        }
        self.engine.closeAllSessions()
    }
}
