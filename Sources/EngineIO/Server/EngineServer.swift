import Glibc
import HTTPKit
import Transport

/// An Engine.IO v4 server: handshakes, sessions, long-polling and WebSocket transports, upgrades.
///
/// Mount it on an `HTTPServer` (alone, or in an `HTTPHandlerChain` with `claims`). New sessions are
/// reported through `onConnection` on the session's loop; set the session's delegate there.
public final class EngineServer: HTTPRequestHandling, @unchecked Sendable {
    // Invariant for @unchecked Sendable: `onConnection` and `fileResponder` are set once before the HTTP
    // server starts and only read afterwards; everything else is immutable or Sendable.

    /// The options in force.
    public let options: EngineServerOptions
    let registry = EngineSessionRegistry()
    /// Called on the session's loop for each new session, before any message is delivered. Set it before the
    /// server serves (it is read without a dynamic exclusivity check, once per new session).
    @exclusivity(unchecked) public var onConnection: (@Sendable (EngineSession) -> Void)?
    /// Answers requests for files under the path before Engine.IO sees them (Socket.IO serves its browser
    /// client so); nil leaves the request to Engine.IO. Set once before the HTTP server starts.
    public var fileResponder: (@Sendable (HTTPRequestHead) -> HTTPResponse?)?

    /// An Engine.IO server with `options`; serve it through an `HTTPServer` (see `claims`).
    public init(options: EngineServerOptions = EngineServerOptions()) {
        var options = options
        if !options.path.hasSuffix("/") { options.path += "/" }
        self.options = options
        self.sharedOptions = EngineSharedOptions(options)
        self.openTemplate = EngineOpenPacketTemplate(pingInterval: options.pingInterval, pingTimeout: options.pingTimeout,
                                                     maxPayload: options.maxHttpBufferSize)
        let bytes = Array(options.path.utf8)
        self.pathBytes = bytes.allSatisfy { $0 < 0x80 } ? bytes : nil
    }

    /// `options` as its sessions share them.
    private let sharedOptions: EngineSharedOptions
    /// The open packet's JSON around the session id.
    private let openTemplate: EngineOpenPacketTemplate

    /// `options.path` as bytes when it is ASCII (for `claims`).
    private let pathBytes: [UInt8]?

    /// Number of open sessions.
    public var sessionCount: Int { self.registry.count }

    /// True for requests under this server's path (use it as the chain's `claims`).
    public func claims(_ head: HTTPRequestHead) -> Bool {
        // ASCII targets (all of them in practice) are matched byte by byte: the same answer as the
        // Character comparison below, at a fraction of its cost (it runs twice per polling request).
        if let prefix = self.pathBytes, let claimed = EngineQuery.claims(target: head.target, prefix: prefix) {
            return claimed
        }
        let path = head.path
        return path.hasPrefix(self.options.path) || path == self.options.path.dropLast()
    }

    /// Requests carry at most `maxHttpBufferSize` bytes (a polling POST).
    public func maxBodySize(for head: HTTPRequestHead) -> Int? { self.options.maxHttpBufferSize }

    // MARK: Plain requests (polling)

    /// Serves the handshake and the polling GETs and POSTs of `options.path`.
    public func handle(_ request: HTTPRequest, exchange: HTTPExchange) {
        let head = request.head
        if let fileResponder = self.fileResponder, let response = fileResponder(head) {
            exchange.respond(response)
            return
        }
        if head.method == "OPTIONS" {
            var headers = HTTPHeaders()
            if let cors = self.options.cors {
                for (name, value) in CORSHeaders.forPreflight(head, options: cors) { headers.add(name, value) }
                exchange.respond(HTTPResponse(status: 204, headers: headers))
            } else {
                exchange.respond(Self.errorResponse(.badRequest, cors: nil, head: head))
            }
            return
        }
        let query = EngineQuery(target: head.target)
        if let error = self.verify(head: head, query: query, isUpgrade: false) {
            exchange.respond(Self.errorResponse(error, cors: self.options.cors, head: head))
            return
        }
        guard let sid = query.sid else {
            self.openPollingSession(request, query: query, exchange: exchange)
            return
        }
        guard let session = self.registry.lookup(sid) else {
            exchange.respond(Self.errorResponse(.unknownSessionID, cors: self.options.cors, head: head))
            return
        }
        let isPost = head.method == "POST"
        let body = request.body
        // Usually already on the session's loop: call directly (no closure to allocate).
        if session.loop.inEventLoop {
            if isPost { session.handlePost(body, exchange: exchange) } else { session.handlePoll(exchange) }
            return
        }
        // The connection moves to the session's loop after this answer: its next polls need no hop.
        exchange.preferredLoop = session.loop
        session.loop.execute {
            if isPost {
                session.handlePost(body, exchange: exchange)
            } else {
                session.handlePoll(exchange)
            }
        }
    }

    /// Checks the query of a request as Node's `verify` does; nil when it may proceed.
    private func verify(head: HTTPRequestHead, query: EngineQuery, isUpgrade: Bool) -> EngineErrorCode? {
        guard let token = query.transport, let transport = EngineTransport(token),
              self.options.transports.contains(transport) else {
            return .unknownTransport
        }
        if isUpgrade != (transport == .websocket) { return .badRequest }
        switch query.protocolVersion {
        case 4: break
        case 3 where self.options.allowEIO3: break
        default: return .unsupportedProtocolVersion
        }
        if query.sid == nil {
            // Only GET opens a session (a WebSocket upgrade is a GET too).
            if head.method != "GET" { return .badHandshakeMethod }
        } else if !isUpgrade && head.method != "GET" && head.method != "POST" {
            return .badRequest
        }
        return nil
    }

    private func admit(_ request: HTTPRequest) -> (EngineErrorCode, String?)? {
        guard let allowRequest = self.options.allowRequest else { return nil }
        switch allowRequest(request) {
        case .allow: return nil
        case .deny(let message): return (.forbidden, message)
        }
    }

    private func makeSession(_ request: HTTPRequest, query: EngineQuery, loop: EventLoop) -> EngineSession {
        // Only a v3 or JSONP handshake needs more of the query than `EngineQuery` reads.
        let isV3 = query.protocolVersion == 3
        var polling = EnginePollingFlavor()
        if isV3 || (query.transport == .polling && request.head.target.contains("j=")) {
            let query = QueryParameters(parsing: request.head.rawQuery)
            polling.jsonpIndex = query["j"].map(EngineV3PayloadCodec.jsonpIndex)
            polling.base64Only = query["b64"] != nil
        }
        // The session keeps the head for its whole life, packed (see PackedHTTPRequest).
        let session = EngineSession(id: EngineSessionID.generate(), loop: loop, handshake: request,
                                    options: self.sharedOptions, registry: self.registry,
                                    protocolVersion: isV3 ? 3 : 4, polling: polling)
        self.registry.insert(session)
        return session
    }

    private func handshake(_ session: EngineSession, upgrades: [String]) -> EngineHandshake {
        EngineHandshake(sid: session.id, upgrades: upgrades, pingInterval: self.options.pingInterval,
                        pingTimeout: self.options.pingTimeout, maxPayload: self.options.maxHttpBufferSize,
                        includesMaxPayload: session.protocolVersion >= 4)
    }

    /// The open packet's JSON for `session`, from the template.
    private func openJSON(_ session: EngineSession, upgradesToWebSocket: Bool) -> [UInt8] {
        guard let length = self.openTemplate.length(sid: session.id, upgradesToWebSocket: upgradesToWebSocket, isV3: session.isV3)
        else { return self.handshake(session, upgrades: upgradesToWebSocket ? ["websocket"] : []).jsonBytes }
        var json: [UInt8] = []
        json.reserveCapacity(length)
        self.openTemplate.append(sid: session.id, upgradesToWebSocket: upgradesToWebSocket, isV3: session.isV3, to: &json)
        return json
    }

    /// Writes the open packet of a session that starts on `ws` straight into its output (no upgrades).
    private func sendOpenPacket(_ session: EngineSession, over ws: WebSocketConnection) {
        let isV3 = session.isV3
        guard let length = self.openTemplate.length(sid: session.id, upgradesToWebSocket: false, isV3: isV3) else {
            // The type digit goes in as the frame's prefix: no packet and no second array for the open packet.
            ws.sendText(prefix: EnginePacketType.open.asciiDigit, self.handshake(session, upgrades: []).jsonBytes)
            return
        }
        ws.sendText(length: length + 1) { out in
            out.append(EnginePacketType.open.asciiDigit)
            self.openTemplate.append(sid: session.id, upgradesToWebSocket: false, isV3: isV3, to: &out)
        }
    }

    private func openPollingSession(_ request: HTTPRequest, query: EngineQuery, exchange: HTTPExchange) {
        if let (code, message) = self.admit(request) {
            exchange.respond(Self.errorResponse(code, message: message, cors: self.options.cors, head: request.head))
            return
        }
        let session = self.makeSession(request, query: query, loop: exchange.loop)
        let canUpgrade = self.options.allowUpgrades && self.options.transports.contains(.websocket)
        let open = EnginePacket(type: .open, textBytes: self.openJSON(session, upgradesToWebSocket: canUpgrade))
        let (contentType, body) = session.pollingBody([open])
        var headers = HTTPHeaders()
        headers.add("Content-Type", contentType)
        session.addCORS(to: &headers)
        self.addCookie(session, to: &headers)
        exchange.respond(HTTPResponse(status: 200, headers: headers, body: body))
        session.start()
        self.onConnection?(session)
    }

    private func addCookie(_ session: EngineSession, to headers: inout HTTPHeaders) {
        guard let cookie = self.options.cookie else { return }
        var value = "\(cookie.name)=\(session.id); Path=\(cookie.path)"
        if cookie.httpOnly { value += "; HttpOnly" }
        if let sameSite = cookie.sameSite { value += "; SameSite=\(sameSite)" }
        headers.add("Set-Cookie", value)
    }

    // MARK: WebSocket

    /// Takes WebSocket upgrades of `options.path`: new sessions or upgrades of polling ones.
    public func upgrade(_ request: HTTPRequest, connection: TCPConnection) -> HTTPUpgradeResult {
        // The head is read in place: a local copy of it cost about 240 instructions in retains and releases.
        guard request.head.headers.firstValue(of: .upgrade, equalsIgnoringCase: "websocket") else { return .notHandled }
        let query = EngineQuery(target: request.head.target)
        if let error = self.verify(head: request.head, query: query, isUpgrade: true) {
            return .rejected(Self.errorResponse(error, cors: self.options.cors, head: request.head))
        }
        let accepted: WebSocketServerHandshake
        do {
            accepted = try WebSocketServerHandshake(request: request.head, allowDeflate: self.options.perMessageDeflate)
        } catch {
            return .rejected(error.response)
        }
        if let sid = query.sid {
            guard let session = self.registry.lookup(sid) else {
                return .rejected(Self.errorResponse(.unknownSessionID, cors: self.options.cors, head: request.head))
            }
            let ws = WebSocketConnection(connection: connection, role: .server,
                                         maxMessageSize: self.options.maxHttpBufferSize,
                                         deflate: accepted.deflate, compressionThreshold: self.options.perMessageDeflateThreshold,
                                         active: session.loop === connection.loop)
            connection.maxBackpressure = self.options.maxBackpressure
            connection.handler = ws
            accepted.writeResponse(to: connection)
            let attach: @Sendable () -> Void = {
                ws.activate()
                session.attachProbe(ws)
                connection.reparseBufferedInput()
            }
            if session.loop === connection.loop {
                session.attachProbe(ws)
            } else {
                connection.migrate(to: session.loop, completion: attach)
            }
            return .upgraded
        }
        if let (code, message) = self.admit(request) {
            return .rejected(Self.errorResponse(code, message: message, cors: self.options.cors, head: request.head))
        }
        let session = self.makeSession(request, query: query, loop: connection.loop)
        let ws = WebSocketConnection(connection: connection, role: .server,
                                     maxMessageSize: self.options.maxHttpBufferSize, deflate: accepted.deflate,
                                     compressionThreshold: self.options.perMessageDeflateThreshold, active: true)
        connection.maxBackpressure = self.options.maxBackpressure
        connection.handler = ws
        var extra = HTTPHeaders()
        self.addCookie(session, to: &extra)
        accepted.writeResponse(to: connection, extraHeaders: extra)
        session.attachWebSocket(ws)
        self.sendOpenPacket(session, over: ws)
        session.start()
        self.onConnection?(session)
        return .upgraded
    }

    // MARK: Shutdown

    /// Closes every session (WebSocket clients get a close frame, a waiting poll gets the close packet).
    public func closeAllSessions() {
        for session in self.registry.all() {
            session.loop.executeOrRun { session.close(reason: .serverShutdown) }
        }
    }

    // MARK: Errors

    /// The reference error answer: 400 (403 for forbidden) with `{"code":N,"message":"..."}`.
    static func errorResponse(_ code: EngineErrorCode, message: String? = nil, cors: CORSOptions?, head: HTTPRequestHead) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/json")
        if let cors {
            for (name, value) in CORSHeaders.forRequest(head, options: cors) { headers.add(name, value) }
        }
        return HTTPResponse(status: code.httpStatus, headers: headers, body: code.jsonBytes(message: message))
    }
}
