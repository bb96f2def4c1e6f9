import EngineIO
import Foundation
import SocketIO
import Synchronization
import Transport

/// One connection to a Socket.IO server, shared by the sockets of its namespaces (multiplexing), after
/// the JavaScript client's `Manager`: it opens the Engine.IO session, routes packets to the namespace
/// sockets and reconnects with exponential backoff when the connection is lost.
///
/// All protocol state lives on one event loop; public methods may be called from any thread and hop
/// there. Handlers run on that loop's thread: hand long work to a `Task`.
public final class SocketManager: EngineClientDelegate, @unchecked Sendable {
    // Invariant for @unchecked Sendable: every `var` is touched on `loop`'s thread only, except what
    // sits behind a Mutex (`sockets`, `stateSnapshot`) and the listener lists.

    /// The server URL (`http`, `https`, `ws` or `wss`).
    public let url: String
    /// The options in force.
    public let options: SocketManagerOptions
    /// The event loop that owns this connection.
    public let loop: EventLoop

    let endpoint: EngineEndpoint
    private let connector: any ClientStreamConnector
    /// The sockets by namespace: held strongly while they want to be connected (the connection keeps them,
    /// as in the JavaScript client), weakly otherwise. A socket refers to its manager, so holding every socket
    /// strongly made a cycle that kept both, with their listeners and buffers, after the application had
    /// disconnected and dropped them (LeakSanitizer found it).
    private let sockets = Mutex<[String: SocketSlot]>([:])
    private let listeners = ListenerList<@Sendable (SocketManagerEvent) -> Void>()
    private let stateSnapshot = Mutex<ReadyState>(.closed)

    enum ReadyState: Sendable { case closed, opening, open }

    private var engine: EngineClient?
    private(set) var readyState = ReadyState.closed {
        didSet { let state = self.readyState; self.stateSnapshot.withLock { $0 = state } }
    }
    private var backoff: Backoff
    private(set) var reconnecting = false
    private var skipReconnect = false
    private var openTimer: LoopTimer?
    private var openTimedOut = false
    private var openCallback: ((String?) -> Void)?
    private var decoder = SocketPacketDecoder(rejectsReservedEventNames: false, keepsRawData: false)
    private let encoder = SocketPacketEncoder()

    /// Creates a manager for `url`; nothing connects until a socket does (`socket(_:)` with
    /// `autoConnect`) or `open()` is called.
    ///
    /// - Parameters:
    ///   - url: `http://host:port`, `https://…`, `ws://…` or `wss://…`; its path is ignored (use
    ///     `options.path` for the server's path and `socket(_:)` for namespaces).
    ///   - loop: the event loop to run on; by default one shared client loop.
    public init(url: String, options: SocketManagerOptions = SocketManagerOptions(), loop: EventLoop? = nil) throws(ClientConfigurationError) {
        guard let (endpoint, _) = EngineEndpoint.parse(url) else { throw .invalidURL(url) }
        self.url = url
        self.options = options
        self.endpoint = endpoint
        self.loop = loop ?? ClientEventLoop.shared.next()
        if let connector = options.connector {
            self.connector = connector
        } else if endpoint.secure {
            do {
                self.connector = try TLSConnector(configuration: options.tls)
            } catch {
                throw .tls(error.description)
            }
        } else {
            self.connector = TCPStreamConnector()
        }
        self.backoff = Backoff(minMillis: options.reconnectionDelay.milliseconds,
                               maxMillis: options.reconnectionDelayMax.milliseconds, jitter: options.randomizationFactor)
    }

    // MARK: Public API

    /// The socket for `namespace` (created once, then the same one while it is connected or referenced
    /// elsewhere); connects it when `autoConnect`.
    public func socket(_ namespace: String = "/", options: ClientSocketOptions = ClientSocketOptions()) -> ClientSocket {
        let name = namespace.hasPrefix("/") ? namespace : "/" + namespace
        let (socket, created) = self.sockets.withLock { sockets -> (ClientSocket, Bool) in
            if let existing = sockets[name]?.socket { return (existing, false) }
            let socket = ClientSocket(manager: self, namespace: name, options: options)
            sockets[name] = SocketSlot(socket)
            return (socket, true)
        }
        if created && self.options.autoConnect { socket.connect() }
        return socket
    }

    /// Opens the connection (sockets do it themselves; this is for watching manager events first).
    public func open() {
        self.loop.execute { self.open(nil) }
    }

    /// Closes the connection and every socket on it; no reconnection follows.
    public func disconnect() {
        self.loop.execute {
            for socket in self.allSockets { socket.destroyForManagerClose() }
            self.closeForGood()
        }
    }

    /// Whether the Engine.IO session is open.
    public var isOpen: Bool { self.stateSnapshot.withLock { $0 == .open } }

    /// Calls `handler` on the loop thread for every manager event (open, close, reconnection progress).
    @discardableResult
    public func onEvent(_ handler: @escaping @Sendable (SocketManagerEvent) -> Void) -> ClientHandlerID {
        self.listeners.add(handler)
    }

    /// Removes a handler added with `onEvent`.
    public func off(_ id: ClientHandlerID) { self.listeners.remove(id) }

    /// Every manager event, as an async sequence (ends when the consumer stops iterating).
    public func events() -> AsyncStream<SocketManagerEvent> {
        AsyncStream { continuation in
            let id = self.listeners.add { continuation.yield($0) }
            continuation.onTermination = { [weak self] _ in self?.listeners.remove(id) }
        }
    }

    // MARK: Opening and reconnecting (loop thread)

    var allSockets: [ClientSocket] { self.sockets.withLock { $0.values.compactMap(\.socket) } }

    /// Holds `socket` strongly while it is active, weakly once it is not (see `sockets`).
    func socketActivityChanged(_ socket: ClientSocket, active: Bool) {
        self.sockets.withLock { sockets in
            guard var slot = sockets[socket.namespace], slot.socket === socket else { return }
            slot.retained = active ? socket : nil
            sockets[socket.namespace] = slot
        }
    }

    /// Holds every active socket strongly again: the connection is (re)opening.
    private func retainActiveSockets() {
        self.sockets.withLock { sockets in
            for (name, slot) in sockets {
                sockets[name]?.retained = slot.socket.flatMap { $0.isActive ? $0 : nil }
            }
        }
    }

    /// Lets go of the sockets once the connection is closed and no reconnection is coming: nothing will
    /// happen to them until the application calls `connect()`, which needs a reference of its own (a socket
    /// left active after a close without reconnection would otherwise keep itself and its manager forever).
    private func releaseSocketsIfIdle() {
        guard self.readyState == .closed, !self.reconnecting else { return }
        self.sockets.withLock { sockets in
            for name in sockets.keys { sockets[name]?.retained = nil }
        }
    }

    /// Opens the engine session; `callback` gets nil on success or the error text (JS `open(fn)`).
    func open(_ callback: ((String?) -> Void)?) {
        switch self.readyState {
        case .open:
            callback?(nil)
            return
        case .opening:
            return
        case .closed:
            break
        }
        self.readyState = .opening
        self.retainActiveSockets()
        self.skipReconnect = false
        self.openTimedOut = false
        self.decoder = SocketPacketDecoder(rejectsReservedEventNames: false, keepsRawData: false)
        var engineOptions = EngineClientOptions()
        engineOptions.path = self.options.path
        engineOptions.transports = self.options.transports
        engineOptions.upgrade = self.options.upgrade
        engineOptions.query = self.options.query
        engineOptions.extraHeaders = self.options.extraHeaders
        engineOptions.perMessageDeflate = self.options.perMessageDeflate
        engineOptions.perMessageDeflateThreshold = self.options.perMessageDeflateThreshold
        engineOptions.maxMessageSize = self.options.maxMessageSize
        let timeout = self.options.timeout.milliseconds
        engineOptions.connectTimeoutMillis = max(1, timeout)
        engineOptions.requestTimeoutMillis = max(1, timeout)
        let engine = EngineClient(loop: self.loop, endpoint: self.endpoint, options: engineOptions, connector: self.connector)
        engine.delegate = self
        self.engine = engine
        self.openCallback = callback
        if timeout > 0 {
            self.openTimer = self.loop.schedule(afterMillis: timeout) { [weak self] in
                guard let self, self.readyState == .opening, let engine = self.engine else { return }
                self.openTimedOut = true
                engine.close()
            }
        }
        engine.open()
    }

    private func reconnect() {
        guard !self.reconnecting, !self.skipReconnect else { return }
        if self.backoff.attempts >= self.options.reconnectionAttempts {
            self.backoff.reset()
            self.reconnecting = false
            self.emit(.reconnectFailed)
            self.releaseSocketsIfIdle()
            return
        }
        let delay = self.backoff.duration()
        self.reconnecting = true
        self.openTimer = nil
        _ = self.loop.schedule(afterMillis: delay) { [weak self] in
            guard let self, !self.skipReconnect else { return }
            self.emit(.reconnectAttempt(self.backoff.attempts))
            guard !self.skipReconnect else { return }
            self.open { [weak self] error in
                guard let self else { return }
                if let error {
                    self.reconnecting = false
                    self.reconnect()
                    self.emit(.reconnectError(error))
                } else {
                    let attempts = self.backoff.attempts
                    self.reconnecting = false
                    self.backoff.reset()
                    self.emit(.reconnect(attempts))
                }
            }
        }
    }

    /// A socket stopped being active; with none left, the connection closes (JS `_destroy`).
    func socketDestroyed(_ socket: ClientSocket) {
        if self.allSockets.contains(where: { $0.isActive }) { return }
        self.closeForGood()
    }

    /// JS `_close`: no more reconnection, engine closed.
    private func closeForGood() {
        self.skipReconnect = true
        self.reconnecting = false
        self.openCallback = nil
        let engine = self.engine
        self.engine = nil
        engine?.delegate = nil
        engine?.close()
        if self.readyState != .closed {
            self.engineClosed(.forcedClose, wasOpen: self.readyState == .open)
        }
    }

    // MARK: Sending (loop thread)

    /// Whether a volatile packet would leave at once.
    var canSendVolatile: Bool { self.engine?.canSendImmediately ?? false }

    func send(_ packet: SocketPacket) {
        guard let engine = self.engine, self.readyState == .open else { return }
        guard let encoded = try? self.encoder.encode(packet) else { return }
        engine.send(EnginePacket(type: .message, textBytes: encoded.text))
        for attachment in encoded.attachments {
            engine.send(.binary(attachment))
        }
    }

    // MARK: EngineClientDelegate

    func engineDidOpen(_ engine: EngineClient, info: EngineOpenInfo) {
        guard engine === self.engine else { return }
        if let timer = self.openTimer { self.loop.cancel(timer) }
        self.openTimer = nil
        self.readyState = .open
        self.emit(.open)
        let callback = self.openCallback
        self.openCallback = nil
        callback?(nil)
        for socket in self.allSockets where socket.isActive {
            socket.managerDidOpen()
        }
    }

    func engine(_ engine: EngineClient, didReceiveMessage packet: EnginePacket) {
        guard engine === self.engine else { return }
        let result: SocketDecodeResult
        do {
            switch packet.payload {
            case .text(let bytes): result = try self.decoder.decode(text: bytes)
            case .binary(let bytes): result = try self.decoder.decode(binary: bytes)
            }
        } catch {
            self.engine = nil
            engine.delegate = nil
            engine.close()
            self.engineClosed(.parseError, wasOpen: true)
            return
        }
        guard case .packet(let decoded) = result else { return }
        let socket = self.sockets.withLock { $0[decoded.namespace]?.socket }
        socket?.handle(decoded)
    }

    func engine(_ engine: EngineClient, didCloseWith reason: EngineClientCloseReason, wasOpen: Bool) {
        guard engine === self.engine else { return }
        self.engine = nil
        self.engineClosed(reason, wasOpen: wasOpen)
    }

    private func engineClosed(_ reason: EngineClientCloseReason, wasOpen: Bool) {
        defer { self.releaseSocketsIfIdle() }
        if let timer = self.openTimer { self.loop.cancel(timer) }
        self.openTimer = nil
        self.readyState = .closed
        self.decoder.reset()
        guard wasOpen else {
            // Opening failed (JS `onError`).
            let timedOut = self.openTimedOut
            let message = timedOut ? "timeout" : reason.description
            self.emit(.error(message))
            let error = ClientConnectError(kind: timedOut ? .timeout : .transport, message: message)
            for socket in self.allSockets where socket.isActive { socket.managerOpenFailed(error) }
            if let callback = self.openCallback {
                self.openCallback = nil
                callback(message)
            } else if !self.reconnecting && self.options.reconnection && self.backoff.attempts == 0 && !self.skipReconnect {
                self.reconnect()
            }
            return
        }
        // JS `onclose`.
        self.backoff.reset()
        self.emit(.close(reason: reason.description))
        let socketReason: ClientDisconnectReason
        switch reason {
        case .forcedClose: socketReason = .ioClientDisconnect
        case .transportClose: socketReason = .transportClose
        case .transportError: socketReason = .transportError
        case .pingTimeout: socketReason = .pingTimeout
        case .parseError: socketReason = .parseError
        }
        for socket in self.allSockets { socket.managerDidClose(socketReason) }
        if self.options.reconnection && !self.skipReconnect {
            self.reconnect()
        }
    }

    private func emit(_ event: SocketManagerEvent) {
        for listener in self.listeners.snapshot { listener(event) }
    }
}

/// A manager could not be created.
public enum ClientConfigurationError: Error, Sendable, Hashable {
    /// The URL is not http(s)/ws(s) with a host.
    case invalidURL(String)
    /// The TLS configuration could not be applied (e.g. a CA file does not load).
    case tls(String)
}

/// The event loop clients use unless given one: one loop thread for the process, started on first use.
public enum ClientEventLoop {
    /// The shared group (one loop).
    public static let shared: EventLoopGroup = {
        do {
            return try EventLoopGroup(loopCount: 1)
        } catch {
            fatalError("SocketIOClient: cannot start an event loop: \(error)")
        }
    }()
}

/// A namespace's socket in its manager's table: always weakly, and strongly too while it is active.
private struct SocketSlot {
    weak var socket: ClientSocket?
    var retained: ClientSocket?

    init(_ socket: ClientSocket) { self.socket = socket }
}
