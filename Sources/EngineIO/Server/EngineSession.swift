import Transport
import HTTPKit

/// Receives a session's messages and its end. Called on the session's loop.
public protocol EngineSessionDelegate: AnyObject {
    /// A text message (the bytes after the `4`, valid UTF-8).
    func session(_ session: EngineSession, didReceiveText text: ArraySlice<UInt8>)
    /// A binary message.
    func session(_ session: EngineSession, didReceiveBinary bytes: [UInt8])
    /// The session ended; it sends and receives nothing more.
    func sessionDidClose(_ session: EngineSession, reason: EngineCloseReason)
}

/// One Engine.IO client: its transport (polling, later maybe upgraded to WebSocket), heartbeat and queue.
///
/// A session belongs to the loop that performed its handshake; requests for it that arrive on other loops
/// hop there. All methods must be called on `loop`.
public final class EngineSession: EventLoopFlushable, @unchecked Sendable {
    // Invariant for @unchecked Sendable: mutable state is touched on `loop` only; the registry hands the
    // object to other threads, which only read the immutable `id` and `loop` before hopping.
    // Hot stored properties skip dynamic exclusivity checks; no access to them spans a re-entrant call.

    /// The session id (`sid`).
    public let id: String
    /// The loop that owns the session.
    public let loop: EventLoop
    /// The handshake request (head, remote address; no body), rebuilt on each read from its packed copy.
    public var handshake: HTTPRequest { self.packedHandshake.request }
    private let packedHandshake: PackedHTTPRequest
    // The one-byte fields follow the packed handshake, in its tail padding: scattered, they cost 16 bytes
    // per idle connection (the object's malloc size class).
    /// True for a v3 client: it sends pings, and frames binary messages with a type byte.
    let isV3: Bool
    /// True once the session has ended.
    @inlinable public var isClosed: Bool { self.closed }
    // Stored apart from `isClosed` (and `receiver` from `delegate`): another module reading or setting a
    // stored property gets a dynamic exclusivity check that `@exclusivity(unchecked)` only removes inside
    // this module, and Socket.IO reads and sets them for every connection.
    @usableFromInline @exclusivity(unchecked) var closed = false
    @exclusivity(unchecked) private var flushScheduled = false
    @exclusivity(unchecked) private var awaitingPong = false
    @exclusivity(unchecked) private var closing: EngineCloseReason?
    /// Receives messages and the close; set it in the server's `onConnection`.
    public var delegate: EngineSessionDelegate? {
        get { self.receiver }
        set { self.receiver = newValue }
    }
    @exclusivity(unchecked) private var receiver: EngineSessionDelegate?

    /// The server's options, shared by every session (a copy each would cost a few hundred bytes per
    /// idle connection).
    private let sharedOptions: EngineSharedOptions
    @inline(__always) private var options: EngineServerOptions { self.sharedOptions.value }
    private let registry: EngineSessionRegistry
    @exclusivity(unchecked) private var websocket: WebSocketConnection?
    // Polling and upgrade state lives in `rareState` (taken on first use, see EngineSessionRareState): a
    // session that starts on a WebSocket never has any, and inline it cost every idle one about 50 bytes.
    private var probe: WebSocketConnection? {
        get { self.rareState?.probe }
        set { self.rareState(creating: newValue != nil)?.probe = newValue }
    }
    private var upgradeTimer: LoopTimer? {
        get { self.rareState?.upgradeTimer }
        set { self.rareState(creating: newValue != nil)?.upgradeTimer = newValue }
    }
    private var probed: Bool {
        get { self.rareState?.probed ?? false }
        set { self.rareState(creating: newValue)?.probed = newValue }
    }
    private var pendingPoll: HTTPExchange? {
        get { self.rareState?.pendingPoll }
        set { self.rareState(creating: newValue != nil)?.pendingPoll = newValue }
    }
    private var outbox: [EnginePacket] {
        get { self.rareState?.outbox ?? [] }
        set { self.rareState(creating: !newValue.isEmpty)?.outbox = newValue }
        // In place (an append through get and set would copy the array).
        _modify { yield &self.makeRareState().outbox }
    }
    /// Bytes of the packets in `outbox`, and the largest packet queued since it was last empty.
    private var outboxBytes: Int {
        get { self.rareState?.outboxBytes ?? 0 }
        set { self.rareState(creating: newValue != 0)?.outboxBytes = newValue }
    }
    private var outboxLargest: Int {
        get { self.rareState?.outboxLargest ?? 0 }
        set { self.rareState(creating: newValue != 0)?.outboxLargest = newValue }
    }
    private var closeTimer: LoopTimer? {
        get { self.rareState?.closeTimer }
        set { self.rareState(creating: newValue != nil)?.closeTimer = newValue }
    }
    /// The queued messages sent with `compress: false`, by their place in the stream of queued packets
    /// (`outbox[0]` is at `outboxBase`): an upgrade sends them on as plain WebSocket frames.
    private var uncompressedQueued: Set<Int> {
        get { self.rareState?.uncompressedQueued ?? [] }
        set { self.rareState(creating: !newValue.isEmpty)?.uncompressedQueued = newValue }
        _modify { yield &self.makeRareState().uncompressedQueued }
    }
    private var outboxBase: Int {
        get { self.rareState?.outboxBase ?? 0 }
        set { self.rareState(creating: newValue != 0)?.outboxBase = newValue }
    }
    @exclusivity(unchecked) private var heartbeatTimer: LoopTimer?
    /// Heads of polling answers (data, and POST's "ok"): the server's own without CORS, else encoded on
    /// first use (CORS depends only on the handshake, so every answer of the session carries the same headers).
    private var pollHead: HTTPPreparedHead {
        if let shared = self.sharedOptions.pollHead { return shared }
        let state = self.makeRareState()
        if let head = state.pollHead { return head }
        let head = HTTPPreparedHead(headers: self.responseHeaders(contentType: EngineSharedOptions.pollContentType))
        state.pollHead = head
        return head
    }
    private var postHead: HTTPPreparedHead {
        if let shared = self.sharedOptions.postHead { return shared }
        let state = self.makeRareState()
        if let head = state.postHead { return head }
        let head = HTTPPreparedHead(headers: self.responseHeaders(contentType: EngineSharedOptions.postContentType))
        state.postHead = head
        return head
    }
    /// State only polling sessions and unusual clients have, in a box taken on first use: inline, it cost
    /// every idle WebSocket session about 110 bytes.
    @exclusivity(unchecked) private var rareState: EngineSessionRareState?
    /// The Engine.IO protocol the client speaks: 4, or 3 (with `allowEIO3`).
    public var protocolVersion: Int { self.isV3 ? 3 : 4 }
    /// JSONP or base64-only polling; the default flavor is not stored.
    private var polling: EnginePollingFlavor { self.rareState?.polling ?? EnginePollingFlavor() }

    init(id: String, loop: EventLoop, handshake: borrowing HTTPRequest, options: EngineSharedOptions, registry: EngineSessionRegistry,
         protocolVersion: Int = 4, polling: EnginePollingFlavor = EnginePollingFlavor()) {
        self.id = id
        self.loop = loop
        self.packedHandshake = PackedHTTPRequest(handshake)
        self.sharedOptions = options
        self.registry = registry
        self.isV3 = protocolVersion == 3
        if polling.jsonpIndex != nil || polling.base64Only { self.makeRareState().polling = polling }
    }

    private func makeRareState() -> EngineSessionRareState {
        if let state = self.rareState { return state }
        let state = EngineSessionRareState()
        self.rareState = state
        return state
    }

    /// The rare state, taken now when `create` (a value other than the default is being stored).
    private func rareState(creating create: Bool) -> EngineSessionRareState? {
        create ? self.makeRareState() : self.rareState
    }

    /// The transport in use now.
    public var transport: EngineTransport { self.websocket == nil ? .polling : .websocket }

    /// Whether the client has finished its upgrade to WebSocket or connected with it directly.
    public var isUpgraded: Bool { self.websocket != nil }

    // MARK: Sending

    /// Sends a text message (UTF-8 bytes). `compress: false` keeps it out of WebSocket permessage-deflate
    /// (Socket.IO's `compress(false)`); polling answers are never compressed per message.
    public func send(text: some Collection<UInt8>, compress: Bool = true) {
        guard !self.isClosed, self.closing == nil else { return }
        if let ws = self.websocket {
            ws.sendText(prefix: EnginePacketType.message.asciiDigit, text, compress: compress)
        } else {
            self.enqueue(EnginePacket(type: .message, textBytes: Array(text)), compress: compress)
        }
    }

    /// Sends a text message (UTF-8 bytes); the non-generic form the Socket.IO layer calls per message.
    public func send(text: [UInt8], compress: Bool = true) {
        guard !self.isClosed, self.closing == nil else { return }
        if let ws = self.websocket {
            ws.sendText(prefix: EnginePacketType.message.asciiDigit, text, compress: compress)
        } else {
            self.enqueue(EnginePacket(type: .message, textBytes: text), compress: compress)
        }
    }

    /// Sends a text message of exactly `length` bytes that `write` appends to the array it is given: over
    /// WebSocket straight into the connection's output buffer, so an encoder needs no buffer of its own.
    public func send(textLength length: Int, compress: Bool = true, _ write: (inout [UInt8]) -> Void) {
        guard !self.isClosed, self.closing == nil else { return }
        if let ws = self.websocket {
            ws.sendText(length: length + 1, compress: compress) { out in
                out.append(EnginePacketType.message.asciiDigit)
                write(&out)
            }
        } else {
            var text: [UInt8] = []
            text.reserveCapacity(length)
            write(&text)
            self.enqueue(EnginePacket(type: .message, textBytes: text), compress: compress)
        }
    }

    /// Sends a text message of exactly `length` bytes that `fill` writes in place: over WebSocket after the
    /// packet type in the frame `WebSocketConnection.sendText(length:filling:)` builds, so that a small
    /// message reaches the output buffer in one copy.
    public func send(textLength length: Int, compress: Bool = true, filling fill: (inout RawByteWriter) -> Void) {
        guard !self.isClosed, self.closing == nil else { return }
        if let ws = self.websocket {
            ws.sendText(length: length + 1, compress: compress) { writer in
                writer.put(EnginePacketType.message.asciiDigit)
                fill(&writer)
            }
        } else {
            var text = [UInt8](repeating: 0, count: length)
            text.withUnsafeMutableBytes { bytes in
                var writer = RawByteWriter(bytes)
                fill(&writer)
                precondition(writer.isFull, "send(textLength:filling:) wrote fewer bytes than announced")
            }
            self.enqueue(EnginePacket(type: .message, textBytes: text), compress: compress)
        }
    }

    /// Sends a message encoded once for many sessions: over WebSocket its shared frame, so that a broadcast
    /// costs each recipient neither a copy nor a buffer; over polling its text, queued as any message.
    public func send(_ message: EngineSharedMessage, compress: Bool = true) {
        guard !self.isClosed, self.closing == nil else { return }
        if let ws = self.websocket {
            ws.sendText(message.webSocketFrame, compress: compress)
        } else {
            self.enqueue(EnginePacket(type: .message, textBytes: message.text), compress: compress)
        }
    }

    /// Sends a text message.
    public func send(text: String, compress: Bool = true) { self.send(text: text.utf8, compress: compress) }

    /// Sends a binary message; `compress: false` as for text.
    public func send(binary: [UInt8], compress: Bool = true) {
        guard !self.isClosed, self.closing == nil else { return }
        if let ws = self.websocket {
            if self.isV3 {
                ws.sendBinary(Self.v3BinaryFrame(binary), compress: compress)
            } else {
                ws.sendBinary(binary, compress: compress)
            }
        } else {
            self.enqueue(EnginePacket(binaryMessage: binary), compress: compress)
        }
    }

    /// Bytes or packets waiting to reach the client (for volatile sends and back-pressure): over WebSocket,
    /// the kernel refused bytes or more than a small backlog waits; over polling, packets wait for a poll.
    public var hasPendingOutput: Bool {
        if let ws = self.websocket { return ws.connection.isCongested }
        return !self.outbox.isEmpty
    }

    private func sendControl(_ packet: EnginePacket) {
        if let ws = self.websocket {
            ws.sendText(prefix: packet.type.asciiDigit, packet.data)
        } else {
            self.enqueue(packet)
        }
    }

    private func enqueue(_ packet: EnginePacket, compress: Bool = true) {
        if !compress { self.uncompressedQueued.insert(self.outboxBase + self.outbox.count) }
        self.outbox.append(packet)
        let size = packet.data.count + 1
        self.outboxBytes += size
        self.outboxLargest = max(self.outboxLargest, size)
        let cap = self.options.maxBackpressure
        if cap > 0 && self.outboxBytes - self.outboxLargest > cap {
            // The client stopped polling while packets keep coming: end it as a WebSocket over its cap ends.
            self.finish(.transportError)
            return
        }
        if self.pendingPoll != nil && !self.flushScheduled {
            self.flushScheduled = true
            self.loop.scheduleFlush(self)
        }
    }

    /// Answers the waiting poll with what is queued, once per loop iteration.
    package func flushNow() {
        self.flushScheduled = false
        guard self.websocket == nil, let poll = self.pendingPoll, !self.outbox.isEmpty else { return }
        let count = min(self.outbox.count, max(1, self.options.maxPacketsPerPoll))
        let packets: [EnginePacket]
        if count == self.outbox.count {
            // The usual case, all of it: the outbox's buffer becomes the answer's (no copy, no new buffer).
            packets = self.outbox
            self.outbox = []
        } else {
            packets = Array(self.outbox.prefix(count))
            self.outbox.removeFirst(count)
        }
        self.outboxBase += count
        if !self.uncompressedQueued.isEmpty {
            let base = self.outboxBase
            self.uncompressedQueued = self.uncompressedQueued.filter { $0 >= base }
        }
        if self.outbox.isEmpty {
            self.outboxBytes = 0
            self.outboxLargest = 0
        } else {
            self.outboxBytes -= packets.reduce(0) { $0 + $1.data.count + 1 }
        }
        self.pendingPoll = nil
        self.answer(poll, packets: packets)
    }

    private func answer(_ exchange: HTTPExchange, packets: [EnginePacket]) {
        if self.isV3 || self.polling.jsonpIndex != nil {
            let (contentType, body) = self.pollingBody(packets)
            exchange.respond(HTTPResponse(status: 200, headers: self.responseHeaders(contentType: contentType), body: body))
            return
        }
        exchange.respond(self.pollHead, bodyLength: EnginePayloadCodec.encodedLength(of: packets)) { out in
            EnginePayloadCodec.append(packets, to: &out)
        }
    }

    private func responseHeaders(contentType: String) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add("Content-Type", contentType)
        self.addCORS(to: &headers)
        return headers
    }

    private static let okBody: [UInt8] = Array("ok".utf8)

    func addCORS(to headers: inout HTTPHeaders) {
        guard let cors = self.options.cors else { return }
        for (name, value) in CORSHeaders.forRequest(self.handshake.head, options: cors) { headers.add(name, value) }
    }

    /// The content type and body of a polling answer carrying `packets`, in the session's format.
    func pollingBody(_ packets: [EnginePacket]) -> (String, [UInt8]) {
        if let index = self.polling.jsonpIndex {
            let payload = self.isV3 ? EngineV3PayloadCodec.encodeText(packets) : EnginePayloadCodec.encode(packets)
            return ("text/javascript; charset=UTF-8", EngineV3PayloadCodec.jsonp(payload, index: index))
        }
        guard self.isV3 else { return ("text/plain; charset=UTF-8", EnginePayloadCodec.encode(packets)) }
        // Node uses the binary form only for binary packets. We use it for non-ASCII text too: there its byte
        // lengths are read alike by every v3 client, while python-engineio 3 counts the text form's lengths
        // in code points, not in the UTF-16 units JavaScript (and so the text form) uses.
        if !self.polling.base64Only && (packets.contains { $0.isBinary } || EngineV3PayloadCodec.holdsNonASCIIText(packets)) {
            return ("application/octet-stream", EngineV3PayloadCodec.encodeBinary(packets))
        }
        return ("text/plain; charset=UTF-8", EngineV3PayloadCodec.encodeText(packets))
    }

    /// A v3 binary WebSocket message: the packet type as a byte (4), then the data.
    private static func v3BinaryFrame(_ data: [UInt8]) -> [UInt8] {
        var frame: [UInt8] = [EnginePacketType.message.rawValue]
        frame.append(contentsOf: data)
        return frame
    }

    // MARK: Heartbeat

    /// Starts the heartbeat; called once the open packet is on its way.
    func start() {
        if self.isV3 {
            // v3 clients ping; the session ends when none came for an interval plus the timeout.
            self.heartbeatTimer = self.loop.scheduleCoarse(afterMillis: self.v3PingDeadline) { self.finish(.pingTimeout) }
            return
        }
        // Timer actions hold the session strongly: `finish` cancels every timer, which drops the action and
        // ends the cycle. A weak capture would give the session a side table, and every retain and release
        // of it on the message path would take the runtime's slow path.
        self.heartbeatTimer = self.loop.scheduleCoarse(afterMillis: self.options.pingInterval) { self.sendPing() }
    }

    private func sendPing() {
        guard !self.isClosed, let timer = self.heartbeatTimer else { return }
        self.awaitingPong = true
        self.sendControl(EnginePacket(type: .ping))
        guard !self.isClosed else { return }
        self.loop.reschedule(timer, afterMillis: self.options.pingTimeout) { self.finish(.pingTimeout) }
    }

    private var v3PingDeadline: Int { self.options.pingInterval + self.options.pingTimeout }

    /// A v3 client's ping: answer pong with its data and restart the deadline.
    private func receivedV3Ping(_ data: [UInt8]) {
        self.sendControl(EnginePacket(type: .pong, textBytes: data))
        guard let timer = self.heartbeatTimer else { return }
        self.loop.reschedule(timer, afterMillis: self.v3PingDeadline) { self.finish(.pingTimeout) }
    }

    private func receivedPong() {
        guard self.awaitingPong, let timer = self.heartbeatTimer else { return }
        self.awaitingPong = false
        self.loop.reschedule(timer, afterMillis: self.options.pingInterval) { self.sendPing() }
    }

    // MARK: Incoming packets

    /// Handles one decoded packet from the current transport.
    private func receive(_ packet: EnginePacket) {
        switch packet.type {
        case .message:
            guard let delegate = self.delegate else { return }
            if packet.isBinary {
                delegate.session(self, didReceiveBinary: packet.data)
            } else {
                delegate.session(self, didReceiveText: packet.data[...])
            }
        case .pong:
            self.receivedPong()
        case .ping where self.isV3:
            self.receivedV3Ping(packet.data)
        case .ping:
            self.sendControl(EnginePacket(type: .pong, textBytes: packet.data))
        case .close:
            self.finish(.transportClose)
        case .open, .upgrade, .noop:
            break
        }
    }

    // MARK: Polling

    /// A GET on the polling transport (loop thread).
    func handlePoll(_ exchange: HTTPExchange) {
        if self.isClosed {
            exchange.respond(EngineServer.errorResponse(.unknownSessionID, cors: self.options.cors, head: self.handshake.head))
            return
        }
        if self.websocket != nil {
            exchange.respond(EngineServer.errorResponse(.badRequest, cors: self.options.cors, head: self.handshake.head))
            return
        }
        if self.pendingPoll != nil {
            // Two polls at once is a client bug that Node answers by closing the session.
            exchange.respond(EngineServer.errorResponse(.badRequest, cors: self.options.cors, head: self.handshake.head))
            self.finish(.transportError)
            return
        }
        if let reason = self.closing {
            // A server-side close waits for this poll to deliver what is left and the close packet.
            self.outbox.append(.close)
            self.answer(exchange, packets: self.outbox)
            self.outbox = []
            self.finish(reason)
            return
        }
        if self.probed {
            // The client is switching to WebSocket: end this poll so that it can send the upgrade packet.
            self.answer(exchange, packets: [.noop])
            return
        }
        self.pendingPoll = exchange
        self.watchForAbandon(exchange)
        if !self.outbox.isEmpty { self.flushNow() }
    }

    /// Ends the session when the client of the pending poll goes away. The poll's connection may belong to
    /// another loop than the session: its abandon handler is set and called on that loop, and hops back here
    /// (TSan found the session's timers cancelled from the connection's loop). The session is held until
    /// the exchange goes; the handler gets the exchange as its argument (no capture, no cycle).
    private func watchForAbandon(_ exchange: HTTPExchange) {
        let abandoned: @Sendable (HTTPExchange) -> Void = { gone in
            self.loop.executeOrRun {
                guard self.pendingPoll === gone else { return }
                self.pendingPoll = nil
                self.finish(.transportError)
            }
        }
        if exchange.loop.inEventLoop {
            exchange.abandonHandler = abandoned
            return
        }
        exchange.loop.execute {
            // Answered already: either the poll was answered (then it is no longer pending, and `abandoned`
            // does nothing) or its connection closed before the handler could be set.
            if exchange.isAnswered { abandoned(exchange) } else { exchange.abandonHandler = abandoned }
        }
    }

    /// A POST on the polling transport (loop thread).
    func handlePost(_ body: [UInt8], exchange: HTTPExchange) {
        if self.isClosed {
            exchange.respond(EngineServer.errorResponse(.unknownSessionID, cors: self.options.cors, head: self.handshake.head))
            return
        }
        if self.websocket != nil {
            exchange.respond(EngineServer.errorResponse(.badRequest, cors: self.options.cors, head: self.handshake.head))
            return
        }
        let packets: [EnginePacket]
        do {
            packets = try self.decodePollingBody(body)
        } catch {
            exchange.respond(EngineServer.errorResponse(.badRequest, cors: self.options.cors, head: self.handshake.head))
            self.finish(.parseError)
            return
        }
        exchange.respond(self.postHead, body: Self.okBody)
        for packet in packets {
            if self.isClosed { break }
            self.receive(packet)
        }
    }

    private func decodePollingBody(_ body: [UInt8]) throws(EngineProtocolError) -> [EnginePacket] {
        if self.polling.jsonpIndex != nil {
            guard let data = EngineV3PayloadCodec.jsonpPostData(body) else { throw .emptyPayload }
            return self.isV3 ? try EngineV3PayloadCodec.decodeText(data) : try EnginePayloadCodec.decode(data)
        }
        return self.isV3 ? try EngineV3PayloadCodec.decode(body) : try EnginePayloadCodec.decode(body)
    }

    // MARK: WebSocket

    /// Makes `ws` the transport of a session opened over WebSocket.
    func attachWebSocket(_ ws: WebSocketConnection) {
        self.websocket = ws
        ws.delegate = self
    }

    /// Starts an upgrade: `ws` carries probes until the client sends the upgrade packet.
    func attachProbe(_ ws: WebSocketConnection) {
        guard !self.isClosed, self.websocket == nil, self.probe == nil else {
            ws.close(code: 1008)
            return
        }
        self.probe = ws
        ws.delegate = self
        self.upgradeTimer = self.loop.schedule(afterMillis: self.options.upgradeTimeout) { self.abandonProbe() }
    }

    private func abandonProbe() {
        guard let probe = self.probe else { return }
        self.probe = nil
        self.probed = false
        if let timer = self.upgradeTimer { self.loop.cancel(timer) }
        self.upgradeTimer = nil
        probe.delegate = nil
        probe.close(code: 1000)
    }

    private func receiveProbe(_ frame: ArraySlice<UInt8>) {
        guard let probe = self.probe else { return }
        let packet: EnginePacket
        do {
            packet = try EnginePacketCodec.decode(text: frame)
        } catch {
            self.abandonProbe()
            return
        }
        switch packet.type {
        case .ping where packet.data.elementsEqual("probe".utf8):
            probe.sendText(prefix: EnginePacketType.pong.asciiDigit, packet.data)
            self.probed = true
            if let poll = self.pendingPoll {
                self.pendingPoll = nil
                self.answer(poll, packets: [.noop])
            }
        case .upgrade where self.probed:
            self.completeUpgrade(probe)
        default:
            self.abandonProbe()
        }
    }

    private func completeUpgrade(_ ws: WebSocketConnection) {
        if let timer = self.upgradeTimer { self.loop.cancel(timer) }
        self.upgradeTimer = nil
        self.probe = nil
        self.probed = false
        if let poll = self.pendingPoll {
            self.pendingPoll = nil
            self.answer(poll, packets: [.noop])
        }
        self.websocket = ws
        let queued = self.outbox
        let (base, uncompressed) = (self.outboxBase, self.uncompressedQueued)
        self.outbox = []
        self.outboxBytes = 0
        self.outboxLargest = 0
        self.outboxBase += queued.count
        self.uncompressedQueued = []
        for (offset, packet) in queued.enumerated() {
            let compress = !uncompressed.contains(base + offset)
            if packet.isBinary {
                ws.sendBinary(self.isV3 ? Self.v3BinaryFrame(packet.data) : packet.data, compress: compress)
            } else {
                ws.sendText(prefix: packet.type.asciiDigit, packet.data, compress: compress)
            }
        }
        // Polling is over: an upgraded session idles as light as one opened on a WebSocket. A JSONP or
        // base64 flavor stays known, as does a pending close.
        if let rare = self.rareState, rare.closeTimer == nil, rare.polling.jsonpIndex == nil, !rare.polling.base64Only {
            self.rareState = nil
        }
        if let reason = self.closing { self.finish(reason) }
    }

    // MARK: Closing

    /// Closes the session from the server side: queued messages are still delivered first.
    public func close() {
        self.close(reason: .forcedClose)
    }

    /// Server-side close with a reason (`serverShutdown` on shutdown).
    func close(reason: EngineCloseReason) {
        guard !self.isClosed, self.closing == nil else { return }
        if self.websocket != nil {
            self.finish(reason)
            return
        }
        if let poll = self.pendingPoll {
            self.pendingPoll = nil
            self.outbox.append(.close)
            self.answer(poll, packets: self.outbox)
            self.outbox = []
            self.finish(reason)
            return
        }
        if reason == .serverShutdown && self.outbox.isEmpty {
            // Nothing left to deliver: shutting down does not wait for the next poll; the client's next
            // request learns of the end.
            self.finish(reason)
            return
        }
        // Wait (bounded) for the next poll to hand over what is queued (a message emitted just before a
        // shutdown, as Node delivers it) and the close packet.
        self.closing = reason
        // A loop that stops first ends the session then: dropped with the loop's timers, it would stay in the
        // registry (which it holds), never telling its delegate.
        self.closeTimer = self.loop.scheduleDeadline(afterMillis: self.options.closeTimeout) { self.finish(reason) }
    }

    /// Ends the session now and tells the delegate once.
    func finish(_ reason: EngineCloseReason) {
        guard !self.isClosed else { return }
        self.closed = true
        self.registry.remove(self.id)
        for timer in [self.heartbeatTimer, self.upgradeTimer, self.closeTimer] {
            if let timer { self.loop.cancel(timer) }
        }
        self.heartbeatTimer = nil
        self.upgradeTimer = nil
        self.closeTimer = nil
        if let poll = self.pendingPoll {
            self.pendingPoll = nil
            // A client that asked to close gets a noop; otherwise the poll learns of the close.
            self.answer(poll, packets: reason == .transportClose ? [.noop] : [.close])
        }
        self.outbox = []
        if let ws = self.websocket {
            self.websocket = nil
            ws.delegate = nil
            ws.close(code: reason == .serverShutdown ? 1001 : 1000)
        }
        if let probe = self.probe {
            self.probe = nil
            probe.delegate = nil
            probe.close(code: 1000)
        }
        let delegate = self.delegate
        self.delegate = nil
        delegate?.sessionDidClose(self, reason: reason)
    }
}

extension EngineSession: WebSocketDelegate {
    /// WebSocketDelegate: a text frame carries one Engine.IO packet.
    public func webSocket(_ ws: WebSocketConnection, didReceiveText bytes: [UInt8]) {
        self.webSocket(ws, didReceiveText: bytes[...])
    }

    /// WebSocketDelegate: the same, read in place (the usual case); a message's bytes go on to the
    /// delegate as a slice of the read buffer, copied only by whoever keeps them.
    public func webSocket(_ ws: WebSocketConnection, didReceiveText bytes: ArraySlice<UInt8>) {
        if ws === self.probe {
            self.receiveProbe(bytes)
            return
        }
        guard ws === self.websocket, !bytes.isEmpty else {
            if ws === self.websocket { self.finish(.parseError) }
            return
        }
        let first = bytes[bytes.startIndex]
        // Messages skip the packet decoder: they are the hot path.
        if first == EnginePacketType.message.asciiDigit {
            self.delegate?.session(self, didReceiveText: bytes[(bytes.startIndex + 1)...])
            return
        }
        do {
            self.receive(self.isV3 ? try EngineV3PayloadCodec.decodePacket(bytes) : try EnginePacketCodec.decode(text: bytes))
        } catch {
            self.finish(.parseError)
        }
    }

    /// WebSocketDelegate: a binary frame is a binary message packet.
    public func webSocket(_ ws: WebSocketConnection, didReceiveBinary bytes: [UInt8]) {
        if ws === self.probe {
            self.abandonProbe()
            return
        }
        guard ws === self.websocket else { return }
        if self.isV3 {
            // v3 binary frames start with the packet type as a byte; only messages carry data.
            guard bytes.first == EnginePacketType.message.rawValue else {
                self.finish(.parseError)
                return
            }
            self.delegate?.session(self, didReceiveBinary: Array(bytes.dropFirst()))
            return
        }
        self.delegate?.session(self, didReceiveBinary: bytes)
    }

    /// WebSocketDelegate: the WebSocket closed; the session closes unless it is still upgrading.
    public func webSocketDidClose(_ ws: WebSocketConnection, code: UInt16?) {
        if ws === self.probe {
            self.probe = nil
            self.probed = false
            if let timer = self.upgradeTimer { self.loop.cancel(timer) }
            self.upgradeTimer = nil
            return
        }
        guard ws === self.websocket else { return }
        self.websocket = nil
        self.finish(code == nil ? .transportError : .transportClose)
    }
}
