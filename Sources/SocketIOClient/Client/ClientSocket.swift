import EngineIO
import Foundation
import SocketIO
import Synchronization
import Transport

/// A Socket.IO client socket: one namespace on a `SocketManager`'s connection.
///
/// Two ways to listen, usable together:
/// - closures: `socket.on("event") { args, ack in … }`, `onConnect`, `onDisconnect`, `onConnectError`, `onAny`;
/// - async sequences: `for await event in socket.events()` or `socket.events("name")`.
///
/// Closures run on the manager's loop thread, in the order events arrive; an `AsyncStream` buffers what
/// its consumer has not read yet. Every method may be called from any thread.
public final class ClientSocket: @unchecked Sendable {
    // Invariant for @unchecked Sendable: every `var` is touched on `manager.loop`'s thread only; the
    // listener lists and `status` have their own locks.

    /// The namespace, e.g. `/` or `/admin`.
    public let namespace: String
    /// The connection this socket uses.
    public let manager: SocketManager
    /// The options in force.
    public let options: ClientSocketOptions

    private enum Listener: Sendable {
        case event(String, @Sendable ([JSONValue], ClientAck?) -> Void)
        case any(@Sendable (String, [JSONValue]) -> Void)
        case connect(@Sendable () -> Void)
        case disconnect(@Sendable (ClientDisconnectReason) -> Void)
        case connectError(@Sendable (ClientConnectError) -> Void)
        case stream(@Sendable (ClientSocketEvent) -> Void)
    }

    private struct Status: Sendable {
        var connected = false
        var active = false
        var id: String?
        var recovered = false
    }

    private let listeners = ListenerList<Listener>()
    private let status = Mutex(Status())
    private let nextAckID = Atomic<Int>(0)

    private var connected = false
    private var active = false
    private var sendBuffer: [SocketPacket] = []
    /// Events that arrived before the CONNECT answer (python-socketio sends what its connect handler
    /// emits first); delivered right after connecting, as the JavaScript client does.
    private var receiveBuffer: [ClientEventMessage] = []
    private var acks: [Int: PendingAck] = [:]
    /// The last failure to connect that nothing will retry (a refusal, or any failure without reconnection),
    /// so that `waitForConnection` called after it happened still hears of it. Cleared by `connect()`.
    private var finalConnectError: ClientConnectError?
    /// Connection state recovery, as the JavaScript client does it: the private session id of the last
    /// CONNECT answer (servers with recovery on send one), and the last argument of the last event received
    /// when it is a string (the broadcast offset). Both go into the auth of the next CONNECT.
    private var pid: String?
    private var lastOffset: String?

    private struct PendingAck {
        var callback: @Sendable (Result<[JSONValue], ClientAckError>) -> Void
        var timer: LoopTimer?
    }

    init(manager: SocketManager, namespace: String, options: ClientSocketOptions) {
        self.manager = manager
        self.namespace = namespace
        self.options = options
    }

    private var loop: EventLoop { self.manager.loop }

    // MARK: State

    /// Whether the socket is connected to its namespace.
    public var isConnected: Bool { self.status.withLock { $0.connected } }

    /// The session id the server gave this socket, while connected.
    public var id: String? { self.status.withLock { $0.id } }

    /// Whether the last connection recovered the previous session (the server kept its id, rooms and data, and
    /// replayed the broadcasts missed while away); needs a server with connection state recovery on.
    public var recovered: Bool { self.status.withLock { $0.recovered } }

    /// Whether the socket wants to be connected (it will reconnect with the manager).
    public var isActive: Bool { self.status.withLock { $0.active } }

    private func publish() {
        let connected = self.connected
        let active = self.active
        self.status.withLock {
            $0.connected = connected
            $0.active = active
            if !connected { $0.id = nil }
        }
    }

    // MARK: Connecting

    /// Connects (or reconnects after `disconnect()` or a refusal).
    public func connect() {
        self.loop.execute {
            guard !self.connected else { return }
            self.active = true
            self.finalConnectError = nil
            self.publish()
            self.manager.socketActivityChanged(self, active: true)
            if !self.manager.reconnecting { self.manager.open(nil) }
            if self.manager.readyState == .open { self.sendConnect() }
        }
    }

    /// Leaves the namespace; no reconnection follows. The connection closes when no socket uses it.
    public func disconnect() {
        self.loop.execute {
            let wasConnected = self.connected
            if wasConnected { self.manager.send(.disconnect(namespace: self.namespace)) }
            self.destroy()
            if wasConnected { self.closed(.ioClientDisconnect) }
            self.sendBuffer.removeAll()
            self.failAcks(.disconnected, keepBuffered: false)
        }
    }

    /// Waits until the socket is connected: returns at once if it is, throws the refusal when the server
    /// refuses the namespace (or any connection error when reconnection is off), or the last connection
    /// error when `timeout` passes first.
    public func waitForConnection(timeout: Duration = .seconds(20)) async throws {
        if self.isConnected { return }
        let lastError = Mutex<ClientConnectError?>(nil)
        let ids = Mutex<[ClientHandlerID]>([])
        defer { for id in ids.withLock({ $0 }) { self.listeners.remove(id) } }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let once = OnceContinuation<Void, ClientConnectError>(continuation)
            let connectID = self.listeners.add(.connect { once.resume(.success(())) })
            let errorID = self.listeners.add(.connectError { error in
                lastError.withLock { $0 = error }
                if error.kind == .refused || !self.manager.options.reconnection { once.resume(.failure(error)) }
            })
            ids.withLock { $0 = [connectID, errorID] }
            self.loop.execute {
                if self.connected { once.resume(.success(())) }
                // It may have failed for good before the listeners above were in place.
                if let error = self.finalConnectError { once.resume(.failure(error)) }
                _ = self.loop.schedule(afterMillis: timeout.milliseconds) {
                    let error = lastError.withLock { $0 } ?? ClientConnectError(kind: .timeout, message: "timeout")
                    once.resume(.failure(error))
                }
            }
        }
    }

    // MARK: Listening

    /// Calls `handler` for each `event` from the server, with its arguments and, when the server asked
    /// for one, the acknowledgement to answer.
    @discardableResult
    public func on(_ event: String, _ handler: @escaping @Sendable ([JSONValue], ClientAck?) -> Void) -> ClientHandlerID {
        self.listeners.add(.event(event, handler))
    }

    /// Calls `handler` with the first argument of each `event`, decoded as `T` (events whose argument
    /// does not decode are skipped).
    @discardableResult
    public func on<T: Decodable & Sendable>(_ event: String, as type: T.Type,
                                            _ handler: @escaping @Sendable (T, ClientAck?) -> Void) -> ClientHandlerID {
        self.on(event) { args, ack in
            guard let first = args.first, let value = try? first.decode(T.self) else { return }
            handler(value, ack)
        }
    }

    /// Calls `handler` for every event from the server (after the per-event handlers).
    @discardableResult
    public func onAny(_ handler: @escaping @Sendable (String, [JSONValue]) -> Void) -> ClientHandlerID {
        self.listeners.add(.any(handler))
    }

    /// Calls `handler` each time the socket connects (first connection and reconnections).
    @discardableResult
    public func onConnect(_ handler: @escaping @Sendable () -> Void) -> ClientHandlerID {
        self.listeners.add(.connect(handler))
    }

    /// Calls `handler` each time the socket disconnects, with the reason.
    @discardableResult
    public func onDisconnect(_ handler: @escaping @Sendable (ClientDisconnectReason) -> Void) -> ClientHandlerID {
        self.listeners.add(.disconnect(handler))
    }

    /// Calls `handler` when joining the namespace fails (refusal, or the connection could not be opened).
    @discardableResult
    public func onConnectError(_ handler: @escaping @Sendable (ClientConnectError) -> Void) -> ClientHandlerID {
        self.listeners.add(.connectError(handler))
    }

    /// Removes a handler.
    public func off(_ id: ClientHandlerID) { self.listeners.remove(id) }

    /// Removes every handler of `event`.
    public func off(_ event: String) {
        self.listeners.removeAll { listener in
            if case .event(let name, _) = listener { return name == event }
            return false
        }
    }

    /// Everything that happens to the socket, in order, until the consumer stops iterating.
    public func events() -> AsyncStream<ClientSocketEvent> {
        AsyncStream { continuation in
            let id = self.listeners.add(.stream { continuation.yield($0) })
            continuation.onTermination = { [weak self] _ in self?.listeners.remove(id) }
        }
    }

    /// The server's `event` events, in order, until the consumer stops iterating.
    public func events(_ event: String) -> AsyncStream<ClientEventMessage> {
        AsyncStream { continuation in
            let id = self.listeners.add(.stream { item in
                if case .event(let message) = item, message.name == event { continuation.yield(message) }
            })
            continuation.onTermination = { [weak self] _ in self?.listeners.remove(id) }
        }
    }

    // MARK: Emitting

    /// Sends `event` with `arguments` (binary values anywhere become attachments). While disconnected
    /// the event is buffered until the socket connects, unless `bufferWhileDisconnected` is off.
    public func emit(_ event: String, _ arguments: JSONValue...) {
        self.emit(event, arguments: arguments)
    }

    /// Sends `event` with `arguments`.
    public func emit(_ event: String, arguments: [JSONValue]) {
        self.enqueue(event, arguments, volatile: false, timeoutMillis: nil, ack: nil)
    }

    /// Sends `event` with one argument encoded from an `Encodable` value.
    public func emit(_ event: String, encoding value: some Encodable) throws {
        self.emit(event, arguments: [try JSONValue(encoding: value)])
    }

    /// Sends `event` and calls `ack` with the server's answer, or with an error on timeout (when
    /// `timeout` is given) or disconnection.
    public func emit(_ event: String, _ arguments: JSONValue..., timeout: Duration? = nil,
                     ack: @escaping @Sendable (Result<[JSONValue], ClientAckError>) -> Void) {
        self.enqueue(event, arguments, volatile: false, timeoutMillis: timeout?.milliseconds, ack: ack)
    }

    /// Sends `event` with `arguments` and calls `ack` with the answer or the error.
    public func emit(_ event: String, arguments: [JSONValue], timeout: Duration? = nil,
                     ack: @escaping @Sendable (Result<[JSONValue], ClientAckError>) -> Void) {
        self.enqueue(event, arguments, volatile: false, timeoutMillis: timeout?.milliseconds, ack: ack)
    }

    /// Sends `event` and waits for the server's acknowledgement; throws `ClientAckError` on timeout
    /// (default: `options.ackTimeout`), disconnection or cancellation.
    public func emitWithAck(_ event: String, _ arguments: JSONValue..., timeout: Duration? = nil) async throws -> [JSONValue] {
        try await self.emitWithAck(event, arguments: arguments, timeout: timeout)
    }

    /// Sends `event` with `arguments` and waits for the acknowledgement.
    public func emitWithAck(_ event: String, arguments: [JSONValue], timeout: Duration? = nil) async throws -> [JSONValue] {
        let millis = (timeout ?? self.options.ackTimeout).milliseconds
        let box = Mutex<(OnceContinuation<[JSONValue], ClientAckError>, Int)?>(nil)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[JSONValue], any Error>) in
                let once = OnceContinuation<[JSONValue], ClientAckError>(continuation)
                let id = self.enqueue(event, arguments, volatile: false, timeoutMillis: millis) { once.resume($0) }
                box.withLock { $0 = (once, id) }
            }
        } onCancel: {
            guard let (once, id) = box.withLock({ $0 }) else { return }
            once.resume(.failure(.cancelled))
            self.loop.execute { self.dropAck(id) }
        }
    }

    /// Emits that are dropped unless they can leave at once (connected, transport not busy), like the
    /// JavaScript client's `socket.volatile.emit`.
    public var volatile: VolatileEmitter { VolatileEmitter(socket: self) }

    /// `socket.volatile.emit(…)`.
    public struct VolatileEmitter: Sendable {
        let socket: ClientSocket

        /// Sends `event` if it can leave now; drops it otherwise.
        public func emit(_ event: String, _ arguments: JSONValue...) {
            self.socket.enqueue(event, arguments, volatile: true, timeoutMillis: nil, ack: nil)
        }

        /// Sends `event` with `arguments` if it can leave now; drops it otherwise.
        public func emit(_ event: String, arguments: [JSONValue]) {
            self.socket.enqueue(event, arguments, volatile: true, timeoutMillis: nil, ack: nil)
        }
    }

    @discardableResult
    private func enqueue(_ event: String, _ arguments: [JSONValue], volatile: Bool, timeoutMillis: Int?,
                         ack: (@Sendable (Result<[JSONValue], ClientAckError>) -> Void)?) -> Int {
        let id = ack == nil ? -1 : self.nextAckID.wrappingAdd(1, ordering: .relaxed).oldValue
        let packet = SocketPacket.event(event, arguments, namespace: self.namespace, id: ack == nil ? nil : id)
        self.onLoopInOrder {
            if let ack {
                var pending = PendingAck(callback: ack, timer: nil)
                if let timeoutMillis {
                    pending.timer = self.loop.schedule(afterMillis: timeoutMillis) { [weak self] in
                        guard let self, let pending = self.acks.removeValue(forKey: id) else { return }
                        self.sendBuffer.removeAll { $0.id == id }
                        pending.callback(.failure(.timeout))
                    }
                }
                self.acks[id] = pending
            }
            if volatile && !(self.connected && self.manager.canSendVolatile) {
                return
            }
            if self.connected {
                self.manager.send(packet)
            } else if self.options.bufferWhileDisconnected {
                self.sendBuffer.append(packet)
            } else if ack != nil {
                self.dropAck(id)?(.failure(.disconnected))
            }
        }
        return id
    }

    /// Runs `work` on the loop: at once when already there with nothing queued before it, so that an emit from a
    /// handler leaves in the write of the loop's current iteration instead of waking the loop once more; queued
    /// otherwise, behind what was queued before.
    private func onLoopInOrder(_ work: @escaping @Sendable () -> Void) {
        if self.loop.inEventLoop && self.loop.hasNoQueuedTasks {
            work()
        } else {
            self.loop.execute(work)
        }
    }

    /// Forgets a pending acknowledgement; returns its callback.
    @discardableResult
    private func dropAck(_ id: Int) -> (@Sendable (Result<[JSONValue], ClientAckError>) -> Void)? {
        guard let pending = self.acks.removeValue(forKey: id) else { return nil }
        if let timer = pending.timer { self.loop.cancel(timer) }
        self.sendBuffer.removeAll { $0.id == id }
        return pending.callback
    }

    private func failAcks(_ error: ClientAckError, keepBuffered: Bool) {
        let buffered = Set(self.sendBuffer.compactMap(\.id))
        for id in Array(self.acks.keys) where !(keepBuffered && buffered.contains(id)) {
            self.dropAck(id)?(.failure(error))
        }
    }

    // MARK: From the manager (loop thread)

    func managerDidOpen() {
        guard self.active, !self.connected else { return }
        self.sendConnect()
    }

    private func sendConnect() {
        var auth = self.options.authProvider?() ?? self.options.auth
        if let pid = self.pid {
            // `{pid, offset}` first, the application's auth over it (as the JavaScript client merges them).
            var merged = JSONObject()
            merged["pid"] = .string(pid)
            if let offset = self.lastOffset { merged["offset"] = .string(offset) }
            for (key, value) in auth ?? JSONObject() { merged[key] = value }
            auth = merged
        }
        self.manager.send(.connect(namespace: self.namespace, data: auth))
    }

    func managerOpenFailed(_ error: ClientConnectError) {
        guard !self.connected else { return }
        self.dispatchConnectError(error)
    }

    func managerDidClose(_ reason: ClientDisconnectReason) {
        // A socket that left on its own (destroyed) reports its own reason.
        guard self.active, self.connected else { return }
        self.closed(reason)
    }

    /// The manager is closing for good (`manager.disconnect()`).
    func destroyForManagerClose() {
        let wasConnected = self.connected
        if wasConnected { self.manager.send(.disconnect(namespace: self.namespace)) }
        self.active = false
        self.publish()
        self.manager.socketActivityChanged(self, active: false)
        if wasConnected { self.closed(.ioClientDisconnect) }
    }

    private func destroy() {
        self.active = false
        self.publish()
        self.manager.socketActivityChanged(self, active: false)
        self.manager.socketDestroyed(self)
    }

    private func closed(_ reason: ClientDisconnectReason) {
        self.connected = false
        self.receiveBuffer.removeAll()
        self.publish()
        self.failAcks(.disconnected, keepBuffered: true)
        for listener in self.listeners.snapshot {
            switch listener {
            case .disconnect(let handler): handler(reason)
            case .stream(let handler): handler(.disconnect(reason))
            default: break
            }
        }
    }

    func handle(_ packet: SocketPacket) {
        // A socket that left (disconnect(), refusal) ignores late answers to its namespace.
        guard self.active || self.connected else { return }
        switch packet.type {
        case .connect:
            guard let sid = packet.data?["sid"]?.stringValue else {
                self.dispatchConnectError(ClientConnectError(
                    kind: .refused,
                    message: "It seems you are trying to reach a Socket.IO server in v2.x with a v3.x client, but they are not compatible"))
                return
            }
            self.didConnect(sid: sid, pid: packet.data?["pid"]?.stringValue)
        case .event, .binaryEvent:
            guard self.active || self.connected, let name = packet.eventName else { return }
            var ack: ClientAck?
            if let id = packet.id {
                let namespace = self.namespace
                ack = ClientAck { [weak self] args in
                    guard let self else { return }
                    self.loop.execute {
                        guard self.connected else { return }
                        self.manager.send(.ack(id: id, args, namespace: namespace))
                    }
                }
            }
            let message = ClientEventMessage(name: name, arguments: Array(packet.arguments), ack: ack)
            if self.connected {
                self.dispatchEvent(message)
            } else if self.receiveBuffer.count < 1000 {
                self.receiveBuffer.append(message)
            }
        case .ack, .binaryAck:
            guard let id = packet.id, let callback = self.dropAck(id) else { return }
            callback(.success(Array(packet.arguments)))
        case .disconnect:
            guard self.connected else { return }
            self.destroy()
            self.closed(.ioServerDisconnect)
        case .connectError:
            self.destroy()
            let message = packet.data?["message"]?.stringValue ?? packet.data?.stringValue ?? "connection refused"
            self.dispatchConnectError(ClientConnectError(kind: .refused, message: message, data: packet.data?["data"]))
        }
    }

    private func didConnect(sid: String, pid: String?) {
        self.connected = true
        self.finalConnectError = nil
        let recovered = pid != nil && pid == self.pid
        self.pid = pid
        if !recovered { self.lastOffset = nil }
        self.status.withLock {
            $0.connected = true
            $0.id = sid
            $0.recovered = recovered
        }
        let received = self.receiveBuffer
        self.receiveBuffer.removeAll()
        for message in received { self.dispatchEvent(message) }
        let buffered = self.sendBuffer
        self.sendBuffer.removeAll()
        for packet in buffered { self.manager.send(packet) }
        for listener in self.listeners.snapshot {
            switch listener {
            case .connect(let handler): handler()
            case .stream(let handler): handler(.connect)
            default: break
            }
        }
    }

    private func dispatchConnectError(_ error: ClientConnectError) {
        if error.kind == .refused || !self.manager.options.reconnection { self.finalConnectError = error }
        for listener in self.listeners.snapshot {
            switch listener {
            case .connectError(let handler): handler(error)
            case .stream(let handler): handler(.connectError(error))
            default: break
            }
        }
    }

    private func dispatchEvent(_ message: ClientEventMessage) {
        // The offset stays in the arguments, as the JavaScript client leaves it: only broadcasts carry one,
        // so a client cannot tell an offset from an application's last string argument.
        if self.pid != nil, case .string(let offset)? = message.arguments.last { self.lastOffset = offset }
        let listeners = self.listeners.snapshot
        for listener in listeners {
            switch listener {
            case .event(let name, let handler) where name == message.name: handler(message.arguments, message.ack)
            default: break
            }
        }
        for listener in listeners {
            switch listener {
            case .any(let handler): handler(message.name, message.arguments)
            case .stream(let handler): handler(.event(message))
            default: break
            }
        }
    }
}
