import EngineIO
import HTTPKit
import Transport

/// The Socket.IO side of one Engine.IO session (Node's `Client`): decodes its packets, connects it to
/// namespaces, routes packets to its sockets and writes what they send.
///
/// Confined to the session's loop: the session calls it there, and sockets call it from there.
final class SocketServerClient: EngineSessionDelegate, @unchecked Sendable {
    // Invariant for @unchecked Sendable: every `var` is read and written on `loop` only.
    // Hot stored properties skip dynamic exclusivity checks; no access to them spans a re-entrant call.
    let server: SocketIOServer
    let session: EngineSession
    let loop: EventLoop
    /// A Socket.IO v2 client (over Engine.IO v3): implicit connect to `/`, query in CONNECT, errors as strings.
    let isV2: Bool
    // The flags sit together after `isV2` (one word, not three: 16 bytes less per connection with the
    // object's malloc size class).
    /// Mirrors `decoder.isAwaitingAttachments` (reading it through the struct costs a copy of the decoder).
    @exclusivity(unchecked) private var awaitingAttachments = false
    @exclusivity(unchecked) private var isClosed = false
    @exclusivity(unchecked) private var decoder: SocketPacketDecoder
    /// The socket of the main namespace, kept apart because nearly every packet is for it.
    @exclusivity(unchecked) private var mainSocket: Socket?
    @exclusivity(unchecked) private var otherSockets: [String: Socket] = [:]
    @exclusivity(unchecked) private var connecting: Set<String> = []
    @exclusivity(unchecked) private var connectTimer: LoopTimer?
    @exclusivity(unchecked) private var closeReason: SocketDisconnectReason?

    init(server: SocketIOServer, session: EngineSession) {
        self.server = server
        self.session = session
        self.loop = session.loop
        self.isV2 = session.protocolVersion == 3
        self.decoder = SocketPacketDecoder(maxAttachments: server.options.maxAttachments)
        // A strong capture (the timer is cancelled on connect and on close): a weak one would give the client
        // a side table and slow down every retain and release of it.
        self.connectTimer = session.loop.scheduleCoarse(afterMillis: server.options.connectTimeout) {
            self.connectTimedOut()
        }
    }

    /// Whether the session can still carry packets.
    var isOpen: Bool { !self.isClosed && !self.session.isClosed }

    // MARK: Writing

    func write(_ packet: SocketEncodedPacket, volatile: Bool, compress: Bool = true) {
        self.write(text: packet.text, attachments: packet.attachments, volatile: volatile, compress: compress)
    }

    /// `compress: false` keeps the packet and its attachments out of WebSocket permessage-deflate.
    func write(text: [UInt8], attachments: [[UInt8]], volatile: Bool, compress: Bool = true) {
        guard !self.isClosed else { return }
        // Volatile packets are dropped rather than queued behind data the client has not taken yet.
        if volatile && self.session.hasPendingOutput { return }
        self.session.send(text: text, compress: compress)
        for attachment in attachments { self.session.send(binary: attachment, compress: compress) }
    }

    /// Writes a packet encoded once for many clients (a broadcast): over WebSocket its frame is shared.
    func write(_ message: EngineSharedMessage, attachments: [[UInt8]], volatile: Bool, compress: Bool) {
        guard !self.isClosed else { return }
        if volatile && self.session.hasPendingOutput { return }
        self.session.send(message, compress: compress)
        for attachment in attachments { self.session.send(binary: attachment, compress: compress) }
    }

    /// Writes one text packet (no attachments) of exactly `length` bytes that `encode` appends in place.
    func write(textLength length: Int, volatile: Bool, compress: Bool, _ encode: (inout [UInt8]) -> Void) {
        guard !self.isClosed else { return }
        if volatile && self.session.hasPendingOutput { return }
        self.session.send(textLength: length, compress: compress, encode)
    }

    /// Writes one text packet (no attachments) of exactly `length` bytes that `encode` writes in place.
    func write(textLength length: Int, volatile: Bool, compress: Bool, filling encode: (inout RawByteWriter) -> Void) {
        guard !self.isClosed else { return }
        if volatile && self.session.hasPendingOutput { return }
        self.session.send(textLength: length, compress: compress, filling: encode)
    }

    // MARK: Incoming (EngineSessionDelegate)

    func session(_ session: EngineSession, didReceiveText text: ArraySlice<UInt8>) {
        guard !self.isClosed else { return }
        // Plain EVENTs skip the full decoder; everything else (and anything unusual) goes through it.
        if !self.awaitingAttachments, case let (event, raw)? = IncomingEvent.read(text, maxDepth: JSONParser.defaultMaxDepth) {
            let socket: Socket?
            if event.namespaceRange != nil {
                socket = self.otherSockets[event.namespace(in: text)]
            } else {
                socket = self.mainSocket
            }
            if let socket {
                socket.receiveEvent(event, raw: raw)
            } else {
                // An EVENT for a namespace the client is not in.
                self.close(reason: .forcedServerClose)
            }
            return
        }
        let result: SocketDecodeResult
        do {
            result = try self.decoder.decode(text: text)
            self.awaitingAttachments = self.decoder.isAwaitingAttachments
        } catch {
            self.awaitingAttachments = self.decoder.isAwaitingAttachments
            self.failDecoding(error)
            return
        }
        if case .packet(let packet) = result { self.route(packet) }
    }

    func session(_ session: EngineSession, didReceiveBinary bytes: [UInt8]) {
        guard !self.isClosed else { return }
        let result: SocketDecodeResult
        do {
            result = try self.decoder.decode(binary: bytes)
            self.awaitingAttachments = self.decoder.isAwaitingAttachments
        } catch {
            self.awaitingAttachments = self.decoder.isAwaitingAttachments
            self.failDecoding(error)
            return
        }
        if case .packet(let packet) = result { self.route(packet) }
    }

    func sessionDidClose(_ session: EngineSession, reason: EngineCloseReason) {
        self.didClose(reason: self.closeReason ?? SocketDisconnectReason(reason))
    }

    /// A packet that does not decode: every socket gets an `error` event, then the connection closes (Node).
    private func failDecoding(_ error: any Error) {
        let failure = SocketPacketError(message: "invalid packet: \(error)")
        for socket in self.sockets { socket.emitError(failure) }
        self.close(reason: .parseError)
    }

    private func route(_ packet: SocketPacket) {
        if self.isV2 && packet.type == .connect {
            self.connectV2(packet.namespace)
            return
        }
        let name = packet.namespace
        let socket = name == "/" ? self.mainSocket : self.otherSockets[name]
        if let socket {
            if packet.type == .connect || packet.type == .connectError {
                // Connecting twice to one namespace, or a server-only packet: Node drops the client.
                self.close(reason: .forcedServerClose)
            } else {
                socket.receive(packet)
            }
        } else if packet.type == .connect {
            // A second CONNECT while the middlewares still run for the first is ignored.
            guard !self.connecting.contains(name) else { return }
            self.connect(to: name, auth: packet.data ?? .object(JSONObject()))
        } else {
            // A packet for a namespace the client is not in.
            self.close(reason: .forcedServerClose)
        }
    }

    private func connect(to name: String, auth: JSONValue) {
        if let namespace = self.server.namespace(for: name, auth: auth) {
            namespace.add(self, auth: auth)
        } else if let packet = OutgoingPacket.control(self.connectErrorPacket(namespace: name, error: SocketConnectError("Invalid namespace"))) {
            self.write(packet, volatile: false)
        }
    }

    /// The CONNECT_ERROR packet for `error`: `{message, data}` for v5 clients; for v2 clients the error's
    /// data, or else its message, as Node sends it (`4"Invalid namespace"`).
    func connectErrorPacket(namespace: String, error: SocketConnectError) -> SocketPacket {
        guard self.isV2 else { return .connectError(namespace: namespace, message: error.message, data: error.data) }
        return SocketPacket(type: .connectError, namespace: namespace, data: error.data ?? .string(error.message))
    }

    /// The v2 implicit connect to `/` right after the Engine.IO handshake (Node's `client.connect("/")`).
    func connectImplicitly() {
        self.connect(to: "/", auth: .object(JSONObject()))
    }

    /// A v2 CONNECT: the namespace may carry a query (`/admin?token=x`), which becomes the auth object.
    private func connectV2(_ target: String) {
        var name = target
        var auth = JSONObject()
        if let mark = target.firstIndex(of: "?") {
            name = String(target[..<mark])
            let query = QueryParameters(parsing: target[target.index(after: mark)...])
            for (key, value) in query.pairs where auth[key] == nil { auth[key] = .string(value) }
        }
        if (name == "/" ? self.mainSocket : self.otherSockets[name]) != nil {
            // Connecting twice to one namespace: Node drops the client.
            self.close(reason: .forcedServerClose)
            return
        }
        guard !self.connecting.contains(name) else { return }
        self.connect(to: name, auth: .object(auth))
    }

    // MARK: Sockets (called by Namespace and Socket)

    func beginConnecting(_ name: String) { self.connecting.insert(name) }
    func endConnecting(_ name: String) {
        self.connecting.remove(name)
        // Give the set's storage back: a connected client keeps no memory for it.
        if self.connecting.isEmpty { self.connecting = [] }
    }

    func register(_ socket: Socket) {
        if socket.nsp.name == "/" {
            self.mainSocket = socket
        } else {
            self.otherSockets[socket.nsp.name] = socket
        }
        if let timer = self.connectTimer {
            self.loop.cancel(timer)
            self.connectTimer = nil
        }
    }

    func remove(_ socket: Socket) {
        if socket.nsp.name == "/" {
            if self.mainSocket === socket { self.mainSocket = nil }
        } else if self.otherSockets[socket.nsp.name] === socket {
            self.otherSockets[socket.nsp.name] = nil
        }
    }

    private var sockets: [Socket] {
        var all = Array(self.otherSockets.values)
        if let main = self.mainSocket { all.insert(main, at: 0) }
        return all
    }

    /// `socket.disconnect(close: true)`: every socket leaves with a DISCONNECT packet, then the connection closes.
    func disconnectAll() {
        for socket in self.sockets { socket.disconnect() }
        self.close(reason: .forcedServerClose)
    }

    // MARK: Closing

    private func connectTimedOut() {
        self.connectTimer = nil
        if self.mainSocket == nil && self.otherSockets.isEmpty {
            self.close(reason: .forcedServerClose)
        }
    }

    /// Closes the session; the sockets learn `reason` at once, whatever the transport still has to flush.
    func close(reason: SocketDisconnectReason) {
        guard !self.isClosed else { return }
        if !self.session.isClosed {
            self.closeReason = reason
            self.session.close()
        }
        self.didClose(reason: reason)
    }

    private func didClose(reason: SocketDisconnectReason) {
        guard !self.isClosed else { return }
        self.isClosed = true
        if let timer = self.connectTimer {
            self.loop.cancel(timer)
            self.connectTimer = nil
        }
        let main = self.mainSocket
        self.mainSocket = nil
        if self.otherSockets.isEmpty {
            // The usual client, in the main namespace only: no array of its sockets to build.
            main?.close(reason: reason)
        } else {
            let others = Array(self.otherSockets.values)
            self.otherSockets.removeAll()
            main?.close(reason: reason)
            for socket in others { socket.close(reason: reason) }
        }
        self.decoder.reset()
        self.awaitingAttachments = false
    }
}
