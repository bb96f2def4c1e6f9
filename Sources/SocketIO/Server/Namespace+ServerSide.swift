import Synchronization

/// A listener for events sent by other servers of the cluster; `ack` is nil when the sender expects no answer.
public typealias ServerSideEventHandler = @Sendable (_ args: [JSONValue], _ ack: (@Sendable (JSONValue) -> Void)?) -> Void

extension Namespace {
    /// Sends an event to the other servers of the cluster (not to clients). No answer expected.
    public func serverSideEmit(_ event: String, _ args: [JSONValue]) {
        self.adapter.serverSideEmit([.string(event)] + args, timeoutMillis: nil, ack: nil)
    }

    /// Same, gathering every other server's answer until `timeoutMillis`; `error` is set when some did not
    /// answer in time (`responses` then holds what arrived). Without other servers it completes at once.
    public func serverSideEmitWithAck(_ event: String, _ args: [JSONValue], timeoutMillis: Int,
                                      completion: @escaping @Sendable (_ error: SocketAckError?, _ responses: [JSONValue]) -> Void) {
        self.adapter.serverSideEmit([.string(event)] + args, timeoutMillis: timeoutMillis, ack: completion)
    }

    /// Listens for server-side events from other servers. Handlers run on the thread that received the
    /// event (a cluster adapter's loop): hand long work elsewhere.
    public func onServerSideEvent(_ event: String, _ handler: @escaping ServerSideEventHandler) {
        self.registrations.withLock { $0.serverSideHandlers[event, default: []].append(handler) }
    }

    /// Every room of the namespace across the cluster.
    public func allRooms() async -> Set<String> {
        await withCheckedContinuation { continuation in
            self.adapter.allRooms { continuation.resume(returning: $0) }
        }
    }

    /// Number of servers in the cluster (1 without a cluster adapter).
    public func serverCount() async -> Int {
        await withCheckedContinuation { continuation in
            self.adapter.serverCount { continuation.resume(returning: $0) }
        }
    }

    /// Calls the listeners of `args[0]` with the rest (Node's `_onServerSideEmit`).
    func receiveServerSideEvent(_ args: [JSONValue], ack: (@Sendable (JSONValue) -> Void)?) {
        guard case .string(let event)? = args.first else { return }
        let handlers = self.registrations.withLock { $0.serverSideHandlers[event] ?? [] }
        let rest = Array(args.dropFirst())
        for handler in handlers { handler(rest, ack) }
    }
}
