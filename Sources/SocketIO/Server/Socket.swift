import EngineIO
import Foundation
import Synchronization
import Transport

/// One client's connection to one namespace (Node's server-side `Socket`).
///
/// A socket lives on the event loop of its Engine.IO session: its handlers run there, synchronously, and its
/// state (`data`, `rooms`, `connected`) is read and written there. Methods that change something (`emit`,
/// `join`, `leave`, `disconnect`, `on`…) may be called from any thread: off the loop they hop to it, so their
/// effect is then asynchronous.
public final class Socket: @unchecked Sendable {
    // Invariant for @unchecked Sendable: every `var` below is read and written on `loop` only (public
    // mutators hop there); the `let`s are immutable and Sendable or only used on the loop.
    // Hot stored properties skip dynamic exclusivity checks; no access to them spans a re-entrant call.

    /// The socket's own id (distinct from the Engine.IO session id), also the name of its private room.
    public let id: String
    /// The namespace it belongs to.
    public let nsp: Namespace
    /// The connection details, built on each read from the Engine.IO handshake the session keeps: a copy
    /// per socket (headers, query pairs, url) cost about 200 bytes per idle connection.
    public var handshake: SocketHandshake {
        SocketHandshake(request: self.client.session.handshake, auth: self.auth, time: self.connectTime)
    }
    /// The CONNECT packet's payload (`handshake.auth`).
    private let auth: JSONValue
    /// When the socket was created (`handshake.time`).
    private let connectTime: Date
    /// The loop that owns it.
    public let loop: EventLoop
    let client: SocketServerClient

    /// Application data (loop only).
    public var data = SocketData()
    /// Whether the socket is connected to its namespace (loop only).
    @exclusivity(unchecked) public private(set) var connected = false
    /// Whether this socket is a disconnected one recovered: same id, rooms and data, missed broadcasts replayed.
    /// (Declared beside `connected`: the two flags share a word, which keeps the object in a smaller malloc
    /// size class.)
    public let recovered: Bool

    typealias EventHandler = @Sendable (SocketEvent) -> Void
    typealias AnyListener = @Sendable (String, [JSONValue]) -> Void
    typealias ReasonHandler = @Sendable (SocketDisconnectReason) -> Void

    /// Event handlers in registration order: a flat list is a third of the memory of a dictionary of
    /// arrays for the dozen handlers a socket typically has, and a lookup compares names in place.
    @exclusivity(unchecked) private var handlers: [HandlerEntry] = []
    /// Catch-all and lifecycle listeners, per-socket middlewares and error handlers (see
    /// Socket+RareListeners.swift): in a box taken when the first is added.
    @exclusivity(unchecked) var rareListeners: SocketRareListeners?
    @exclusivity(unchecked) private var acks: [Int: PendingAck] = [:]
    @exclusivity(unchecked) private var nextAckID = 1

    private enum Listener {
        case event(EventHandler)
        case values(@Sendable ([JSONValue], SocketAck?) -> Void)
    }

    /// 48 bytes: a stored key of the name's first bytes (it saved a string comparison per entry) made it 56,
    /// 32 bytes more per idle socket with four handlers. Small names (up to 15 bytes) are stored inline, and
    /// equal ones compare in one step.
    private struct HandlerEntry {
        let name: String
        let listener: Listener
        /// What `on` returned, for `off(_:)`.
        let id: Int
    }

    private struct PendingAck {
        let callback: AckCallback
        var timer: LoopTimer?
    }

    /// Event names only the library emits; `emit` refuses them, as Node throws for them.
    public static let reservedEventNames: Set<String> = [
        "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
    ]

    /// The private session id the client presents to recover this socket (nil when recovery is off).
    let pid: String?

    init(namespace: Namespace, client: SocketServerClient, auth: JSONValue, restoring session: SocketSession? = nil) {
        self.id = session?.id ?? SocketID.generate()
        self.pid = session?.pid ?? (namespace.recovery != nil ? SocketID.generate() : nil)
        self.recovered = session != nil
        if let session { self.data = session.data }
        self.nsp = namespace
        self.client = client
        self.loop = client.loop
        self.auth = auth
        self.connectTime = Date()
    }

    /// The Engine.IO transport in use (loop only).
    public var transport: EngineTransport { self.client.session.transport }

    /// The underlying Engine.IO connection (Node's `socket.conn`): `conn.close()` drops it as a network failure
    /// would, without a DISCONNECT packet, so the client reconnects (and recovers, when recovery is on).
    public var conn: EngineSession { self.client.session }

    /// The Engine.IO session id of the underlying connection.
    public var engineSessionID: String { self.client.session.id }

    /// The rooms the socket is in, its own id room included (loop only).
    public var rooms: Set<String> { self.nsp.adapter.socketRooms(self) }

    /// Whether the socket has left its namespace (loop only).
    public var disconnected: Bool { !self.connected }

    /// Runs `body` on the loop: now when already there, later otherwise.
    @inline(__always)
    func onLoop(_ body: @escaping @Sendable () -> Void) {
        if self.loop.inEventLoop {
            body()
        } else {
            self.loop.execute(body)
        }
    }

    // MARK: Listening

    /// Calls `handler` with the arguments and the optional acknowledgement of every `event` received, on the
    /// socket's loop. Returns an id for `off(_:)`.
    @discardableResult
    public func on(_ event: String, _ handler: @escaping @Sendable (_ args: [JSONValue], _ ack: SocketAck?) -> Void) -> SocketListenerID {
        self.addHandler(event, .values(handler))
    }

    /// Adds a synchronous values handler (what the async `on` wraps).
    func addHandler(_ event: String, _ handler: @escaping @Sendable ([JSONValue], SocketAck?) -> Void) -> SocketListenerID {
        self.addHandler(event, .values(handler))
    }

    /// Handlers are usually added in the connection handler, on the loop: no closure to allocate then.
    private func addHandler(_ event: String, _ listener: Listener) -> SocketListenerID {
        let id = self.reserveListenerID()
        let entry = HandlerEntry(name: event, listener: listener, id: id.rawValue)
        if self.loop.inEventLoop {
            if self.handlers.isEmpty { self.handlers.reserveCapacity(4) }  // apps add a few; it grows if more
            self.handlers.append(entry)
        } else {
            self.loop.execute { self.handlers.append(entry) }
        }
        return id
    }

    /// Calls `handler` with each `event` received, raw JSON text included (see `SocketArguments`). Returns an
    /// id for `off(_:)`.
    @discardableResult
    public func onEvent(_ event: String, _ handler: @escaping @Sendable (SocketEvent) -> Void) -> SocketListenerID {
        self.addHandler(event, .event(handler))
    }

    /// Decodes the first argument of each `event` as `T` (with `JSONDecoder`); events whose first argument
    /// does not decode are ignored.
    @discardableResult
    public func on<T: Decodable & Sendable>(_ event: String, as type: T.Type, _ handler: @escaping @Sendable (T, SocketAck?) -> Void)
        -> SocketListenerID {
        self.onEvent(event) { event in
            guard let first = event.arguments.values.first, let value = try? first.decode(T.self) else { return }
            handler(value, event.ack)
        }
    }

    /// Removes every handler of `event`.
    public func off(_ event: String) {
        self.onLoop { self.handlers.removeAll { $0.name == event } }
    }

    /// Removes the handler or listener `on`, `onEvent`, `onAny` or `onAnyOutgoing` returned `id` for.
    public func off(_ id: SocketListenerID) {
        self.onLoop {
            self.handlers.removeAll { $0.id == id.rawValue }
            self.anyListeners.removeAll { $0.id == id.rawValue }
            self.outgoingListeners.removeAll { $0.id == id.rawValue }
        }
    }

    /// Calls `handler` when the socket is about to leave (its rooms still known) or has left.
    public func on(_ event: SocketLifecycleEvent, _ handler: @escaping @Sendable (SocketDisconnectReason) -> Void) {
        self.onLoop {
            switch event {
            case .disconnecting: self.disconnectingHandlers.append(handler)
            case .disconnect: self.disconnectHandlers.append(handler)
            }
        }
    }

    /// Calls `handler` with the error of each packet a middleware refused (`next(error)`) or the connection
    /// could not decode. Without a handler such errors are dropped.
    public func on(_ event: SocketErrorEvent, _ handler: @escaping @Sendable (_ error: any Error) -> Void) {
        self.onLoop { self.errorHandlers.append(handler) }
    }

    /// Adds a middleware that sees each incoming event (after the catch-all listeners, before the event's
    /// handlers); middlewares run in the order they were added.
    public func use(_ middleware: @escaping SocketMiddleware) {
        let step: MiddlewareRun<SocketEvent, any Error>.Step = { event, next in middleware(event, SocketMiddlewareNext(next)) }
        self.onLoop { self.middlewares.append(step) }
    }

    /// Adds a listener for every incoming event (name and arguments), called before the event's handlers.
    @discardableResult
    public func onAny(_ listener: @escaping @Sendable (_ event: String, _ args: [JSONValue]) -> Void) -> SocketListenerID {
        let id = self.reserveListenerID()
        self.onLoop { self.anyListeners.append((id: id.rawValue, body: listener)) }
        return id
    }

    /// Like `onAny`, but the listener runs before those already added.
    @discardableResult
    public func prependAny(_ listener: @escaping @Sendable (_ event: String, _ args: [JSONValue]) -> Void) -> SocketListenerID {
        let id = self.reserveListenerID()
        self.onLoop { self.anyListeners.insert((id: id.rawValue, body: listener), at: 0) }
        return id
    }

    /// Removes one catch-all listener, or all of them when `id` is nil.
    public func offAny(_ id: SocketListenerID? = nil) {
        self.onLoop {
            if let id { self.anyListeners.removeAll { $0.id == id.rawValue } } else { self.anyListeners.removeAll() }
        }
    }

    /// Adds a listener for every event sent to this client (emits and broadcasts; not acknowledgements).
    @discardableResult
    public func onAnyOutgoing(_ listener: @escaping @Sendable (_ event: String, _ args: [JSONValue]) -> Void) -> SocketListenerID {
        let id = self.reserveListenerID()
        self.onLoop { self.outgoingListeners.append((id: id.rawValue, body: listener)) }
        return id
    }

    /// Like `onAnyOutgoing`, but the listener runs before those already added.
    @discardableResult
    public func prependAnyOutgoing(_ listener: @escaping @Sendable (_ event: String, _ args: [JSONValue]) -> Void) -> SocketListenerID {
        let id = self.reserveListenerID()
        self.onLoop { self.outgoingListeners.insert((id: id.rawValue, body: listener), at: 0) }
        return id
    }

    /// Removes one outgoing listener, or all of them when `id` is nil.
    public func offAnyOutgoing(_ id: SocketListenerID? = nil) {
        self.onLoop {
            if let id { self.outgoingListeners.removeAll { $0.id == id.rawValue } } else { self.outgoingListeners.removeAll() }
        }
    }

    private func reserveListenerID() -> SocketListenerID {
        SocketListenerID(rawValue: SocketListenerID.counter.wrappingAdd(1, ordering: .relaxed).oldValue)
    }

    // MARK: Emitting

    /// Options for the next emission: wait at most `millis` for its acknowledgement.
    @available(*, deprecated, message: "use timeout(.milliseconds(n)) (a Duration, as the client takes)")
    public func timeout(_ millis: Int) -> SocketEmitter {
        SocketEmitter(socket: self, options: SocketEmitOptions(timeoutMillis: millis))
    }

    /// Options for the next emission: drop it if the transport is busy.
    public var volatile: SocketEmitter {
        SocketEmitter(socket: self, options: SocketEmitOptions(volatile: true))
    }

    /// Options for the next emission: `compress(false)` sends it uncompressed over a permessage-deflate WebSocket.
    public func compress(_ compress: Bool) -> SocketEmitter {
        SocketEmitter(socket: self, options: SocketEmitOptions(compress: compress))
    }

    /// Sends `event` with `args` to this client. Returns false for a reserved event name.
    @discardableResult
    public func emit(_ event: String, _ args: JSONValue...) -> Bool {
        self.emit(event, arguments: .values(args), options: SocketEmitOptions(), ack: nil)
    }

    /// Sends `event` with `arguments` to this client.
    @discardableResult
    public func emit(_ event: String, arguments: [JSONValue]) -> Bool {
        self.emit(event, arguments: .values(arguments), options: SocketEmitOptions(), ack: nil)
    }

    /// Sends `event` with received arguments, relaying their JSON text unchanged when possible.
    @discardableResult
    public func emit(_ event: String, _ arguments: SocketArguments) -> Bool {
        // The relay (an echo): on the loop, with nothing watching outgoing packets, the text goes straight
        // to the transport without the `OutgoingArguments` wrapping `emitOnLoop` takes.
        if self.loop.inEventLoop, self.rareListeners?.outgoingListeners.isEmpty ?? true, let raw = arguments.rawText {
            if isReservedEventName(event) { return false }
            if self.connected { self.writeRelayed(event, raw: raw, id: nil, volatile: false, compress: true) }
            return true
        }
        return self.emit(event, arguments: .forwarded(arguments), options: SocketEmitOptions(), ack: nil)
    }

    /// Sends `event` and calls `ack` with the client's answer (or with an error when the socket disconnects).
    @discardableResult
    @available(*, deprecated, message: "use the Result form: emit(event, args) { result in ... }")
    public func emit(_ event: String, _ args: JSONValue...,
                     ack: @escaping @Sendable (_ error: SocketAckError?, _ response: [JSONValue]) -> Void) -> Bool {
        self.emit(event, arguments: .values(args), options: SocketEmitOptions(), ack: Self.adapt(ack))
    }

    /// Sends `event` with `arguments` and calls `ack` with the client's answer.
    @discardableResult
    @available(*, deprecated, message: "use the Result form: emit(event, args) { result in ... }")
    public func emit(_ event: String, arguments: [JSONValue],
                     ack: @escaping @Sendable (_ error: SocketAckError?, _ response: [JSONValue]) -> Void) -> Bool {
        self.emit(event, arguments: .values(arguments), options: SocketEmitOptions(), ack: Self.adapt(ack))
    }

    /// Sends `event` and waits for the client's answer (throws `SocketAckError.disconnected` if it leaves).
    public func emitWithAck(_ event: String, _ args: JSONValue...) async throws -> [JSONValue] {
        try await self.emitWithAck(event, arguments: .values(args), options: SocketEmitOptions())
    }

    /// Sends `event` with `arguments` and waits for the client's answer.
    public func emitWithAck(_ event: String, arguments: [JSONValue]) async throws -> [JSONValue] {
        try await self.emitWithAck(event, arguments: .values(arguments), options: SocketEmitOptions())
    }

    /// Sends `event` with one `Encodable` value (encoded with `JSONEncoder`).
    @discardableResult
    public func emit(_ event: String, encoding value: some Encodable) throws -> Bool {
        self.emit(event, arguments: .values([try JSONValue(encoding: value)]), options: SocketEmitOptions(), ack: nil)
    }

    static func adapt(_ ack: @escaping @Sendable (SocketAckError?, [JSONValue]) -> Void) -> AckCallback {
        { result in
            switch result {
            case .success(let values): ack(nil, values)
            case .failure(let error): ack(error, [])
            }
        }
    }

    func emitWithAck(_ event: String, arguments: OutgoingArguments, options: SocketEmitOptions) async throws -> [JSONValue] {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[JSONValue], any Error>) in
            let accepted = self.emit(event, arguments: arguments, options: options) { result in
                continuation.resume(with: result.mapError { $0 as any Error })
            }
            if !accepted { continuation.resume(throwing: SocketAckError.disconnected) }
        }
    }

    /// Every emission goes through here. Returns false (without calling `ack`) for reserved names.
    @discardableResult
    func emit(_ event: String, arguments: OutgoingArguments, options: SocketEmitOptions, ack: AckCallback?) -> Bool {
        if isReservedEventName(event) { return false }
        if self.loop.inEventLoop {
            self.emitOnLoop(event, arguments: arguments, options: options, ack: ack)
        } else {
            self.loop.execute { self.emitOnLoop(event, arguments: arguments, options: options, ack: ack) }
        }
        return true
    }

    private func emitOnLoop(_ event: String, arguments: OutgoingArguments, options: SocketEmitOptions, ack: AckCallback?) {
        guard self.connected else {
            ack?(.failure(.disconnected))
            return
        }
        var ackID: Int?
        if let ack {
            let id = self.nextAckID
            self.nextAckID = id == Int.max ? 1 : id + 1
            ackID = id
            self.registerAck(id: id, callback: ack, timeoutMillis: options.timeoutMillis)
        }
        self.notifyOutgoing(event, arguments.values)
        if case .forwarded(let forwarded) = arguments, let raw = forwarded.rawText {
            self.writeRelayed(event, raw: raw, id: ackID, volatile: options.volatile, compress: options.compress)
            return
        }
        guard let packet = OutgoingPacket.event(namespace: self.nsp.name, name: event, arguments: arguments, ackID: ackID) else {
            return
        }
        self.client.write(packet, volatile: options.volatile, compress: options.compress)
    }

    private func registerAck(id: Int, callback: @escaping AckCallback, timeoutMillis: Int?) {
        var pending = PendingAck(callback: callback, timer: nil)
        if let timeoutMillis {
            pending.timer = self.loop.schedule(afterMillis: timeoutMillis) { [weak self] in
                guard let self, let entry = self.acks.removeValue(forKey: id) else { return }
                entry.callback(.failure(.timeout))
            }
        }
        self.acks[id] = pending
    }

    private func notifyOutgoing(_ event: String, _ values: @autoclosure () -> [JSONValue]) {
        guard let rare = self.rareListeners, !rare.outgoingListeners.isEmpty else { return }
        let values = values()
        for listener in self.outgoingListeners { listener.body(event, values) }
    }

    /// Writes an EVENT named `event` (an ACK when nil) relaying argument JSON text (loop only): encoded in
    /// place in the transport's output when the name needs no escapes, else through the loop's scratch buffer.
    private func writeRelayed(_ event: String?, raw: ArraySlice<UInt8>, id: Int?, volatile: Bool, compress: Bool) {
        let namespace = self.nsp.name
        // The name's UTF-8 is read in place (`withUTF8` needs a `var` copy, which retained it); a string
        // without contiguous UTF-8 takes the scratch buffer below.
        let written: Bool
        if let event {
            written = event.utf8.withContiguousStorageIfAvailable { utf8 in
                self.writeRelayedInPlace(namespace: namespace, name: utf8, raw: raw, id: id, volatile: volatile, compress: compress)
            } ?? false
        } else {
            written = self.writeRelayedInPlace(namespace: namespace, name: nil, raw: raw, id: id, volatile: volatile, compress: compress)
        }
        if written { return }
        self.loop.withScratchBytes { text in
            if let event {
                guard OutgoingPacket.appendEvent(namespace: namespace, name: event, raw: raw, ackID: id, to: &text) else { return }
            } else {
                guard let id, OutgoingPacket.appendAck(namespace: namespace, id: id, raw: raw, to: &text) else { return }
            }
            self.client.write(text: text, attachments: [], volatile: volatile, compress: compress)
        }
    }

    /// Encodes a relayed EVENT (an ACK when `name` is nil) straight into the transport's output; false when
    /// the name or namespace needs escapes (nothing written).
    private func writeRelayedInPlace(namespace: String, name: UnsafeBufferPointer<UInt8>?, raw: ArraySlice<UInt8>, id: Int?,
                                     volatile: Bool, compress: Bool) -> Bool {
        guard let length = OutgoingPacket.relayedLength(namespace: namespace, name: name, raw: raw, id: id) else { return false }
        self.client.write(textLength: length, volatile: volatile, compress: compress) { (writer: inout RawByteWriter) in
            OutgoingPacket.writeRelayed(namespace: namespace, name: name, raw: raw, id: id, into: &writer)
        }
        return true
    }

    /// Writes the answer to an acknowledgement the client asked for (loop only).
    func writeAck(id: Int, arguments: OutgoingArguments) {
        if case .forwarded(let forwarded) = arguments, let raw = forwarded.rawText {
            self.writeRelayed(nil, raw: raw, id: id, volatile: false, compress: true)
            return
        }
        guard let packet = OutgoingPacket.ack(namespace: self.nsp.name, id: id, arguments: arguments) else { return }
        self.client.write(packet, volatile: false)
    }

    // MARK: Broadcast delivery (loop only, called by adapters)

    /// Writes a broadcast packet encoded once for all its recipients; `compress: false` keeps it out of
    /// WebSocket permessage-deflate (the broadcast's `compress(false)`).
    public func deliver(_ packet: SocketBroadcastPacket, volatile: Bool, compress: Bool = true) {
        guard self.connected else { return }
        self.notifyOutgoing(packet.event, packet.arguments)
        self.client.write(packet.message, attachments: packet.attachments, volatile: volatile, compress: compress)
    }

    /// Writes a broadcast packet that expects an answer; `ack` gets it, or `.timeout` after `timeoutMillis`
    /// (so that unanswered entries do not pile up), or `.disconnected`. Returns whether the packet was
    /// written (the socket counts as a recipient).
    @discardableResult
    public func deliver(_ packet: SocketBroadcastPacket, volatile: Bool, compress: Bool = true, timeoutMillis: Int?,
                        ack: @escaping @Sendable (Result<[JSONValue], SocketAckError>) -> Void) -> Bool {
        guard self.connected else { return false }
        let id = self.nextAckID
        self.nextAckID = id == Int.max ? 1 : id + 1
        self.registerAck(id: id, callback: ack, timeoutMillis: timeoutMillis)
        self.notifyOutgoing(packet.event, packet.arguments)
        self.client.write(text: packet.text(ackID: id), attachments: packet.attachments, volatile: volatile, compress: compress)
        return true
    }

    // MARK: Rooms

    /// Joins a room.
    public func join(_ room: String) {
        self.join([room])
    }

    /// Joins several rooms.
    public func join(_ rooms: [String]) {
        self.onLoop {
            guard self.connected else { return }
            self.nsp.adapter.addAll(self, rooms: Set(rooms))
        }
    }

    /// Leaves a room.
    public func leave(_ room: String) {
        self.onLoop {
            guard self.connected else { return }
            self.nsp.adapter.del(self, room: room)
        }
    }

    /// Leaves several rooms.
    public func leave(_ rooms: [String]) {
        for room in rooms { self.leave(room) }
    }

    // MARK: Broadcasting from this socket

    /// Everyone in the namespace but this socket.
    public var broadcast: BroadcastOperator {
        BroadcastOperator(namespace: self.nsp, rooms: [], exceptRooms: [self.id])
    }

    /// Everyone in `room` but this socket.
    public func to(_ room: String) -> BroadcastOperator { self.broadcast.to(room) }
    /// Everyone in any of `rooms` but this socket.
    public func to(_ rooms: [String]) -> BroadcastOperator { self.broadcast.to(rooms) }
    /// Same as `to`.
    public func `in`(_ room: String) -> BroadcastOperator { self.broadcast.to(room) }
    /// Same as `to`.
    public func `in`(_ rooms: [String]) -> BroadcastOperator { self.broadcast.to(rooms) }
    /// Everyone but this socket and the members of `room`.
    public func except(_ room: String) -> BroadcastOperator { self.broadcast.except(room) }
    /// Everyone but this socket and the members of `rooms`.
    public func except(_ rooms: [String]) -> BroadcastOperator { self.broadcast.except(rooms) }
    /// Everyone in the namespace on this server only but this socket.
    public var local: BroadcastOperator { self.broadcast.local }

    // MARK: Disconnecting

    /// Leaves the namespace (the client gets a DISCONNECT packet); with `close`, closes the whole connection
    /// and so every namespace of this client.
    public func disconnect(close: Bool = false) {
        self.onLoop {
            guard self.connected else { return }
            if close {
                self.client.disconnectAll()
            } else {
                if let packet = OutgoingPacket.control(.disconnect(namespace: self.nsp.name)) {
                    self.client.write(packet, volatile: false)
                }
                self.close(reason: .serverNamespaceDisconnect)
            }
        }
    }

    // MARK: Lifecycle (loop only, called by the client and the namespace)

    /// The namespace accepted the socket: join its own room (and a recovered session's `rooms`), confirm to the
    /// client, then replay the broadcasts it missed (`missed`: `[event, ...args, offset]` each, oldest first).
    func didConnect(rooms: Set<String> = [], missed: [[JSONValue]] = []) {
        self.connected = true
        if rooms.isEmpty {
            self.nsp.adapter.addToOwnRoom(self)
        } else {
            self.nsp.adapter.addAll(self, rooms: rooms.union([self.id]))
        }
        let namespace = self.nsp.name
        if !self.client.isV2, let length = OutgoingPacket.connectLength(namespace: namespace, sid: self.id, pid: self.pid) {
            // The usual answer, written in place: no JSON object, packet or intermediate buffer per connection.
            self.client.write(textLength: length, volatile: false, compress: true) { text in
                OutgoingPacket.appendConnect(namespace: namespace, sid: self.id, pid: self.pid, to: &text)
            }
        } else {
            var payload = JSONObject()
            payload["sid"] = .string(self.id)
            if let pid = self.pid { payload["pid"] = .string(pid) }
            // A v2 client's CONNECT answer carries no data.
            if let packet = OutgoingPacket.control(.connect(namespace: namespace, data: self.client.isV2 ? nil : payload)) {
                self.client.write(packet, volatile: false)
            }
        }
        for arguments in missed {
            guard case .string(let event)? = arguments.first else { continue }
            let packet = SocketBroadcastPacket(namespace: self.nsp.name, event: event, arguments: Array(arguments.dropFirst()))
            self.deliver(packet, volatile: false)
        }
    }

    /// Handles a packet for this namespace.
    func receive(_ packet: SocketPacket) {
        switch packet.type {
        case .event, .binaryEvent:
            self.receiveEvent(packet)
        case .ack, .binaryAck:
            guard let id = packet.id, let entry = self.acks.removeValue(forKey: id) else { return }
            if let timer = entry.timer { self.loop.cancel(timer) }
            entry.callback(.success(Array(packet.arguments)))
        case .disconnect:
            self.close(reason: .clientNamespaceDisconnect)
        case .connect, .connectError:
            break
        }
    }

    private func receiveEvent(_ packet: SocketPacket) {
        let name: String
        switch packet.data?[0] {
        case .string(let text)?: name = text
        case let number? where number.isNumber: name = number.description
        default: return
        }
        let values = Array(packet.arguments)
        // Attachments leave placeholders in the text: such arguments are re-encoded when relayed.
        let raw = packet.attachments == 0 ? packet.rawData : nil
        self.dispatchEvent(name: name, arguments: SocketArguments(values: values, raw: raw, rawStart: 1), ackID: packet.id)
    }

    /// Handles an EVENT read by the fast path (`IncomingEvent`): its arguments stay JSON text until read.
    /// `raw` (its payload) is consumed: it moves into the arguments instead of being copied.
    func receiveEvent(_ event: borrowing IncomingEvent, raw: consuming SocketRawData) {
        let name = event.nameHasEscapes ? event.name(in: raw) : self.eventName(raw.bytes, event.nameRange)
        self.dispatchEvent(name: name, arguments: SocketArguments(raw: raw, rawStart: 1), ackID: event.ackID)
    }

    /// `arguments` is consumed (here and in `callHandlers`): it moves into the handlers' `SocketEvent`
    /// instead of being copied there (three retains) and released after.
    private func dispatchEvent(name: String, arguments: consuming SocketArguments, ackID: Int?) {
        let ack = ackID.map { SocketAck(socket: self, id: $0) }
        if let rare = self.rareListeners, !rare.anyListeners.isEmpty {
            let values = arguments.values
            for listener in self.anyListeners { listener.body(name, values) }
        }
        guard self.connected else { return }
        if let rare = self.rareListeners, !rare.middlewares.isEmpty {
            let arguments = copy arguments
            let event = SocketEvent(name: name, arguments: arguments, ack: ack)
            MiddlewareRun(subject: event, loop: self.loop, middlewares: self.middlewares) { error in
                if let error {
                    self.emitError(error)
                } else if self.connected {
                    self.callHandlers(name: name, arguments: arguments, ack: ack)
                }
            }.start()
            return
        }
        self.callHandlers(name: name, arguments: arguments, ack: ack)
    }

    private func callHandlers(name: String, arguments: consuming SocketArguments, ack: SocketAck?) {
        // A snapshot: handlers added while these run wait for the next event.
        let handlers = self.handlers
        // Index loops that read an entry's fields in place: they stay allocation-free even in unoptimized
        // builds, where the allocation guard tests run, and the entries that do not match are not copied
        // (a copy retains the name and the closure).
        var first = 0
        let length = name.utf8.count
        while first < handlers.count && !Self.same(handlers[first].name, name, length: length) { first += 1 }
        guard first < handlers.count else { return }
        let event = SocketEvent(name: name, arguments: arguments, ack: ack)
        for index in first..<handlers.count where Self.same(handlers[index].name, name, length: length) {
            switch handlers[index].listener {
            case .event(let handler): handler(event)
            case .values(let handler): handler(event.arguments.values, ack)
            }
        }
    }

    /// The event name spelled by `text` (plain UTF-8): a handler's stored name when one matches, so that the
    /// usual event builds no String, else a new one.
    private func eventName(_ payload: borrowing ArraySlice<UInt8>, _ range: Range<Int>) -> String {
        // Read in place: slicing `payload` first would retain its storage.
        payload.withUnsafeBufferPointer { whole in
            let bytes = UnsafeBufferPointer(rebasing: whole[(range.lowerBound - payload.startIndex)..<(range.upperBound - payload.startIndex)])
            let handlers = self.handlers
            var index = 0
            while index < handlers.count {
                if Self.spells(handlers[index].name, bytes) { return handlers[index].name }
                index += 1
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Whether `name`'s UTF-8 is `bytes`.
    @inline(__always)
    private static func spells(_ name: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard name.utf8.count == bytes.count else { return false }
        // memcmp: `elementsEqual` walks both through iterators, several times the cost for short names. The
        // non-mutating storage access needs no copy of the string (`withUTF8` on a `var` retained it).
        let equal = name.utf8.withContiguousStorageIfAvailable { stored in
            guard let lhs = stored.baseAddress, let rhs = bytes.baseAddress else { return true }  // both empty
            return memcmp(lhs, rhs, bytes.count) == 0
        }
        return equal ?? name.utf8.elementsEqual(bytes)
    }

    /// Name equality that skips the string comparison call for names of another length (most of them).
    @inline(__always)
    private static func same(_ stored: String, _ name: String, length: Int) -> Bool {
        stored.utf8.count == length && stored == name
    }

    /// Emits the `error` event (loop only).
    func emitError(_ error: any Error) {
        for handler in self.errorHandlers { handler(error) }
    }

    /// Leaves the namespace for `reason`: `disconnecting` handlers, rooms left, `disconnect` handlers.
    func close(reason: SocketDisconnectReason) {
        guard self.connected else { return }
        for handler in self.disconnectingHandlers { handler(reason) }
        if let pid = self.pid, ConnectionStateRecovery.recoverableReasons.contains(reason) {
            self.nsp.adapter.persistSession(SocketSession(id: self.id, pid: pid, rooms: self.rooms, data: self.data))
        }
        self.nsp.adapter.delAll(self)
        self.client.remove(self)
        self.connected = false
        if !self.acks.isEmpty {
            let pending = self.acks
            self.acks.removeAll()
            for (_, entry) in pending {
                if let timer = entry.timer { self.loop.cancel(timer) }
                entry.callback(.failure(.disconnected))
            }
        }
        for handler in self.disconnectHandlers { handler(reason) }
        self.handlers.removeAll()
        // Every rare listener goes too (catch-all and outgoing ones included): a closure that captures the socket
        // would otherwise keep it, its namespace and its server alive after the server shut down.
        self.rareListeners = nil
        self.nsp.socketDidLeave(self)
    }
}

/// Lifecycle events of a socket.
public enum SocketLifecycleEvent: Sendable, Hashable {
    /// About to leave: `rooms` still lists the rooms.
    case disconnecting
    /// Left.
    case disconnect
}

/// Identifies a catch-all listener for removal.
public struct SocketListenerID: Sendable, Hashable {
    let rawValue: Int
    static let counter = Atomic<Int>(1)
}

