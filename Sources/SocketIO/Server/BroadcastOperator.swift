import Dispatch
import Synchronization

/// Targets sockets of a namespace for an emission or a bulk operation (`io.to("room").emit(...)`).
///
/// A value: each modifier returns a new operator. Usable from any thread.
public struct BroadcastOperator: Sendable {
    /// The namespace whose sockets are targeted.
    public let namespace: Namespace
    /// Targeted rooms; every socket when empty.
    public private(set) var rooms: Set<String>
    /// Rooms whose members are left out.
    public private(set) var exceptRooms: Set<String>
    /// Modifiers.
    public private(set) var flags: SocketBroadcastFlags

    init(namespace: Namespace, rooms: Set<String> = [], exceptRooms: Set<String> = [],
         flags: SocketBroadcastFlags = SocketBroadcastFlags()) {
        self.namespace = namespace
        self.rooms = rooms
        self.exceptRooms = exceptRooms
        self.flags = flags
    }

    var options: SocketBroadcastOptions {
        SocketBroadcastOptions(rooms: self.rooms, except: self.exceptRooms, flags: self.flags)
    }

    // MARK: Modifiers

    /// Also targets `room` (a socket in several targeted rooms gets the packet once).
    public func to(_ room: String) -> BroadcastOperator {
        var copy = self
        copy.rooms.insert(room)
        return copy
    }

    /// Also targets `rooms`.
    public func to(_ rooms: [String]) -> BroadcastOperator {
        var copy = self
        copy.rooms.formUnion(rooms)
        return copy
    }

    /// Same as `to`.
    public func `in`(_ room: String) -> BroadcastOperator { self.to(room) }
    /// Same as `to`.
    public func `in`(_ rooms: [String]) -> BroadcastOperator { self.to(rooms) }

    /// Leaves out the members of `room`.
    public func except(_ room: String) -> BroadcastOperator {
        var copy = self
        copy.exceptRooms.insert(room)
        return copy
    }

    /// Leaves out the members of `rooms`.
    public func except(_ rooms: [String]) -> BroadcastOperator {
        var copy = self
        copy.exceptRooms.formUnion(rooms)
        return copy
    }

    /// Skips sockets whose transport is busy.
    public var volatile: BroadcastOperator {
        var copy = self
        copy.flags.volatile = true
        return copy
    }

    /// Only sockets of this server (matters with a multi-server adapter).
    public var local: BroadcastOperator {
        var copy = self
        copy.flags.local = true
        return copy
    }

    /// `compress(false)` sends the next packets uncompressed over permessage-deflate WebSockets.
    public func compress(_ compress: Bool) -> BroadcastOperator {
        var copy = self
        copy.flags.compress = compress
        return copy
    }

    /// Waits at most `duration` for acknowledgements.
    public func timeout(_ duration: Duration) -> BroadcastOperator {
        var copy = self
        copy.flags.timeoutMillis = duration.socketMilliseconds
        return copy
    }

    /// Waits at most `millis` for acknowledgements.
    @available(*, deprecated, message: "use timeout(.milliseconds(n)) (a Duration, as the client takes)")
    public func timeout(_ millis: Int) -> BroadcastOperator {
        var copy = self
        copy.flags.timeoutMillis = millis
        return copy
    }

    // MARK: Emitting

    /// Sends `event` with `args` to every targeted socket. Returns false for a reserved event name.
    @discardableResult
    public func emit(_ event: String, _ args: JSONValue...) -> Bool {
        self.emit(event, outgoing: .values(args))
    }

    /// Sends `event` with `arguments` to every targeted socket.
    @discardableResult
    public func emit(_ event: String, arguments: [JSONValue]) -> Bool {
        self.emit(event, outgoing: .values(arguments))
    }

    /// Sends `event` with received arguments (their JSON text is relayed when possible).
    @discardableResult
    public func emit(_ event: String, _ arguments: SocketArguments) -> Bool {
        self.emit(event, outgoing: .forwarded(arguments))
    }

    func emit(_ event: String, outgoing: OutgoingArguments) -> Bool {
        if isReservedEventName(event) { return false }
        // With recovery on, every broadcast EVENT but a volatile one carries an offset (as Node's adapter adds).
        let offset = self.namespace.recovery != nil && !self.flags.volatile ? ConnectionStateRecovery.nextOffset() : nil
        let packet = SocketBroadcastPacket(namespace: self.namespace.name, event: event, outgoing: outgoing, offset: offset)
        self.namespace.adapter.broadcast(packet, options: self.options)
        return true
    }

    /// Sends `event` asking every targeted socket for an answer. `ack` gets the answers (the first argument
    /// of each, in arrival order) once all arrived, or an error and the answers so far when the timeout
    /// passes or a socket disconnects first (Node's `(err, responses)`; the `Result` form drops the answers
    /// that came before a failure). Without `timeout(_:)` it waits as long as it takes.
    @discardableResult
    public func emit(_ event: String, _ args: JSONValue...,
                     ack: @escaping @Sendable (_ error: SocketAckError?, _ responses: [JSONValue]) -> Void) -> Bool {
        self.emitWithAck(event, outgoing: .values(args), completion: ack)
    }

    /// Like `emit(_:_:ack:)` with an argument array.
    @discardableResult
    public func emit(_ event: String, arguments: [JSONValue],
                     ack: @escaping @Sendable (_ error: SocketAckError?, _ responses: [JSONValue]) -> Void) -> Bool {
        self.emitWithAck(event, outgoing: .values(arguments), completion: ack)
    }

    /// Sends `event` and waits for every targeted socket's answer; throws `SocketAckError`.
    public func emitWithAck(_ event: String, _ args: JSONValue...) async throws -> [JSONValue] {
        try await self.emitWithAck(event, arguments: args)
    }

    /// Sends `event` with `arguments` and waits for every targeted socket's answer.
    public func emitWithAck(_ event: String, arguments: [JSONValue]) async throws -> [JSONValue] {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[JSONValue], any Error>) in
            let accepted = self.emitWithAck(event, outgoing: .values(arguments)) { error, responses in
                if let error {
                    continuation.resume(throwing: error)
                } else {
                    continuation.resume(returning: responses)
                }
            }
            if !accepted { continuation.resume(throwing: SocketAckError.disconnected) }
        }
    }

    func emitWithAck(_ event: String, outgoing: OutgoingArguments,
                             completion: @escaping @Sendable (SocketAckError?, [JSONValue]) -> Void) -> Bool {
        if isReservedEventName(event) { return false }
        let packet = SocketBroadcastPacket(namespace: self.namespace.name, event: event, outgoing: outgoing)
        let collector = BroadcastAckCollector(completion: completion)
        let adapter = self.namespace.adapter
        // Without a timeout, local sockets are waited for as long as it takes, other servers only as long as
        // the adapter allows (a server that died must not hang the caller).
        if let millis = self.flags.timeoutMillis ?? adapter.remoteAckWaitMillis {
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(max(0, millis))) {
                collector.timedOut()
            }
        }
        adapter.broadcastWithAck(packet, options: self.options,
                                 clientCount: { collector.add(clients: $0) },
                                 ack: { collector.add(response: $0) })
        adapter.serverCount { collector.expect(servers: $0) }
        return true
    }

    // MARK: Bulk operations

    /// Snapshots of the targeted sockets.
    public func fetchSockets() async -> [RemoteSocket] {
        let namespace = self.namespace
        let snapshots = await withCheckedContinuation { (continuation: CheckedContinuation<[SocketSnapshot], Never>) in
            namespace.adapter.fetchSockets(self.options) { continuation.resume(returning: $0) }
        }
        return snapshots.map { RemoteSocket(namespace: namespace, snapshot: $0) }
    }

    /// Ids of the targeted sockets (Node's deprecated `allSockets`).
    public func allSockets() async -> Set<String> {
        await withCheckedContinuation { (continuation: CheckedContinuation<Set<String>, Never>) in
            self.namespace.adapter.sockets(in: self.rooms) { continuation.resume(returning: $0) }
        }
    }

    /// Makes the targeted sockets join `room`.
    public func socketsJoin(_ room: String) { self.socketsJoin([room]) }

    /// Makes the targeted sockets join `rooms`.
    public func socketsJoin(_ rooms: [String]) {
        self.namespace.adapter.addSockets(self.options, rooms: Set(rooms))
    }

    /// Makes the targeted sockets leave `room`.
    public func socketsLeave(_ room: String) { self.socketsLeave([room]) }

    /// Makes the targeted sockets leave `rooms`.
    public func socketsLeave(_ rooms: [String]) {
        self.namespace.adapter.delSockets(self.options, rooms: Set(rooms))
    }

    /// Disconnects the targeted sockets; with `close`, closes their connections too.
    public func disconnectSockets(close: Bool = false) {
        self.namespace.adapter.disconnectSockets(self.options, close: close)
    }
}

/// Gathers the answers to one broadcast: done when every server reported how many sockets it wrote to and
/// that many answers (or disconnections) arrived, or when the timeout passes.
final class BroadcastAckCollector: Sendable {
    private struct State {
        var expectedServers: Int?
        var reportedServers = 0
        var expectedClients = 0
        var responses: [JSONValue] = []
        var failures = 0
        var timedOut = false
        var finished = false
    }

    private let state = Mutex(State())
    private let completion: @Sendable (SocketAckError?, [JSONValue]) -> Void

    init(completion: @escaping @Sendable (SocketAckError?, [JSONValue]) -> Void) {
        self.completion = completion
    }

    func add(clients count: Int) {
        self.update {
            $0.expectedClients += count
            $0.reportedServers += 1
        }
    }

    func expect(servers count: Int) {
        self.update { $0.expectedServers = count }
    }

    func add(response: Result<[JSONValue], SocketAckError>) {
        self.update { state in
            switch response {
            case .success(let values): state.responses.append(values.first ?? .null)
            case .failure(let error):
                state.failures += 1
                if error == .timeout { state.timedOut = true }
            }
        }
    }

    func timedOut() {
        let responses: [JSONValue]? = self.state.withLock { state in
            if state.finished { return nil }
            state.finished = true
            return state.responses
        }
        if let responses { self.completion(.timeout, responses) }
    }

    private func update(_ change: (inout State) -> Void) {
        let outcome: (SocketAckError?, [JSONValue])? = self.state.withLock { state in
            change(&state)
            guard !state.finished, let servers = state.expectedServers, state.reportedServers >= servers,
                  state.responses.count + state.failures >= state.expectedClients else { return nil }
            state.finished = true
            let error: SocketAckError? = state.timedOut ? .timeout : (state.failures > 0 ? .disconnected : nil)
            return (error, state.responses)
        }
        if let outcome { self.completion(outcome.0, outcome.1) }
    }
}

/// A socket found by `fetchSockets()`: a snapshot of its state plus operations that reach it wherever it is.
public struct RemoteSocket: Sendable {
    /// The socket's id.
    public let id: String
    /// Its handshake.
    public let handshake: SocketHandshake
    /// Its rooms when the snapshot was taken.
    public let rooms: Set<String>
    /// Its data when the snapshot was taken.
    public let data: SocketData
    private let target: BroadcastOperator

    init(namespace: Namespace, snapshot: SocketSnapshot) {
        self.id = snapshot.id
        self.handshake = snapshot.handshake
        self.rooms = snapshot.rooms
        self.data = snapshot.data
        var flags = SocketBroadcastFlags()
        flags.expectSingleResponse = true
        self.target = BroadcastOperator(namespace: namespace, rooms: [snapshot.id], flags: flags)
    }

    /// Waits at most `millis` for the acknowledgement of the next emission.
    @available(*, deprecated, message: "use timeout(.milliseconds(n)) (a Duration, as the client takes)")
    public func timeout(_ millis: Int) -> BroadcastOperator { self.target.timeout(.milliseconds(millis)) }

    /// Waits at most `duration` for the acknowledgement of the next emission.
    public func timeout(_ duration: Duration) -> BroadcastOperator { self.target.timeout(duration) }

    /// Sends `event` with Swift values to the socket (see `Socket.emit`).
    @discardableResult
    public func emit<each Argument: Encodable>(_ event: String, _ args: repeat each Argument) -> Bool {
        self.target.emit(event, repeat each args)
    }

    /// Sends `event` to the socket.
    @discardableResult
    public func emit(_ event: String, _ args: JSONValue...) -> Bool { self.target.emit(event, arguments: args) }

    /// Makes the socket join `room`.
    public func join(_ room: String) { self.target.socketsJoin(room) }

    /// Makes the socket join `rooms`.
    public func join(_ rooms: [String]) { self.target.socketsJoin(rooms) }

    /// Makes the socket leave `room`.
    public func leave(_ room: String) { self.target.socketsLeave(room) }

    /// Disconnects the socket; with `close`, closes its connection.
    public func disconnect(close: Bool = false) { self.target.disconnectSockets(close: close) }
}
