import Synchronization

/// A family of namespaces created on demand (Node's `io.of(/regex/)` or `io.of(fn)`): when a client connects
/// to an unknown namespace whose name matches, a child namespace is created with the parent's connection
/// handlers and middlewares as they are at that moment.
public final class ParentNamespace: Sendable {
    private let matcher: @Sendable (_ name: String, _ auth: JSONValue) -> Bool
    private let state = Mutex<State>(State())

    private struct State {
        var registrations = Namespace.Registrations()
        var children: [String: Namespace] = [:]
    }

    init(matcher: @escaping @Sendable (String, JSONValue) -> Bool) {
        self.matcher = matcher
    }

    /// Calls `handler` for each socket connecting to any child.
    public func on(_ event: NamespaceEvent, _ handler: @escaping @Sendable (Socket) -> Void) {
        self.state.withLock { $0.registrations.connectionHandlers.append(handler) }
    }

    /// Same as `on(.connection, handler)`.
    public func onConnection(_ handler: @escaping @Sendable (Socket) -> Void) {
        self.on(.connection, handler)
    }

    /// Adds a middleware run for sockets connecting to any child.
    public func use(_ middleware: @escaping NamespaceMiddleware) {
        self.state.withLock { $0.registrations.middlewares.append(middleware) }
    }

    /// Drops the handlers and middlewares given to children (see `Namespace.releaseRegistrations`).
    func releaseRegistrations() {
        self.state.withLock { $0.registrations = Namespace.Registrations() }
    }

    /// The children created so far.
    public var children: [Namespace] {
        self.state.withLock { Array($0.children.values) }
    }

    /// Sends `event` to every socket of every child.
    @discardableResult
    public func emit(_ event: String, _ args: JSONValue...) -> Bool {
        if Socket.reservedEventNames.contains(event) { return false }
        for child in self.children { child.emit(event, arguments: args) }
        return true
    }

    func matches(_ name: String, auth: JSONValue) -> Bool {
        self.matcher(name, auth)
    }

    func createChild(_ name: String, adapterFactory: SocketAdapterFactory, recovery: ConnectionStateRecoveryOptions?,
                     whenEmpty: (@Sendable (Namespace) -> Void)?) -> Namespace {
        let registrations = self.state.withLock { $0.registrations }
        let child = Namespace(name: name, adapterFactory: adapterFactory, recovery: recovery,
                              registrations: registrations, whenEmpty: whenEmpty)
        self.state.withLock { $0.children[name] = child }
        return child
    }

    func removeChild(_ child: Namespace) {
        self.state.withLock { state in
            if state.children[child.name] === child { state.children[child.name] = nil }
        }
    }
}
