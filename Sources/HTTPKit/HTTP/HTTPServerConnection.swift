import Glibc
import Transport

/// Speaks HTTP/1.1 on one TCP connection: parses requests, hands them to the handler one at a time
/// (pipelined requests wait in the read buffer), writes responses in order, enforces timeouts.
/// Loop-confined: every method runs on the connection's loop (hence the unchecked Sendable).
final class HTTPServerConnection: ConnectionHandler, @unchecked Sendable {
    // The stored properties skip dynamic exclusivity checks (several per request otherwise): they are used
    // on the loop thread only, and no access to them spans a call that could reach them again.
    private static let encoder = HTTPResponseEncoder()
    private let connection: TCPConnection
    /// Shared with the server's other connections: a copy of the configuration each cost retains and
    /// releases of its strings and references on every accept.
    private let settings: HTTPServerSettings
    private let handler: HTTPRequestHandling
    @exclusivity(unchecked) private var parser: HTTPRequestParser
    @exclusivity(unchecked) private var head: HTTPRequestHead?
    /// The handler of the current request, resolved once from its head (a chain searches its entries once).
    @exclusivity(unchecked) private var requestHandler: HTTPRequestHandling?
    @exclusivity(unchecked) private var body: [UInt8] = []
    @exclusivity(unchecked) private var bodyLimit = 0
    @exclusivity(unchecked) private var current: HTTPExchange?
    @exclusivity(unchecked) private var keepAlive = true
    /// Kept across requests (disarmed while one is handled) so that a keep-alive connection does not
    /// allocate a timer per request. Its action holds the connection strongly: `cancelTimer` (on close and
    /// on upgrade) drops it, ending that cycle.
    @exclusivity(unchecked) private var timer: LoopTimer?
    @exclusivity(unchecked) private var fileStream: FileStream?
    @exclusivity(unchecked) private var upgraded = false
    @exclusivity(unchecked) private var parsing = false
    /// Set while the connection moves to the loop its requests' work runs on (`HTTPExchange.preferredLoop`):
    /// bytes that arrive meanwhile stay in the read buffer until it gets there.
    @exclusivity(unchecked) private var moving = false
    /// A connection moves at most once: one shared by sessions of several loops must not bounce between them.
    @exclusivity(unchecked) private var moved = false

    init(connection: TCPConnection, settings: HTTPServerSettings, handler: HTTPRequestHandling) {
        self.connection = connection
        self.settings = settings
        self.handler = handler
        self.parser = HTTPRequestParser(limits: settings.configuration.limits)
        // A new connection owes its first request head within the header timeout (a connection that opens and
        // sends nothing is held no longer than one that sends its head slowly); later, keep-alive idling
        // gets the idle timeout.
        self.armTimer(millis: settings.configuration.headerTimeoutMillis, purpose: .headers)
    }

    // MARK: Reading

    func connectionRead(_ connection: TCPConnection, _ buffer: inout ByteBuffer) {
        guard !self.moving else { return }
        self.parse(&buffer)
    }

    private func parse(_ buffer: inout ByteBuffer) {
        self.parsing = true
        defer { self.parsing = false }
        while !self.upgraded && self.current == nil && !connection.isClosed {
            let event: HTTPParseEvent?
            do {
                event = try self.parser.next(from: &buffer)
            } catch {
                self.fail(status: error.status, message: error.reason)
                return
            }
            guard let event else {
                let started = !buffer.isEmpty || self.parser.isMidMessage
                if self.head == nil && started && self.timerPurpose != .headers {
                    // A request has started: the client now has a bounded time to finish its headers. The
                    // parser may already hold (and have consumed) whole lines of it, so its state counts too.
                    self.armTimer(millis: self.settings.configuration.headerTimeoutMillis, purpose: .headers)
                } else if self.head != nil && self.timerPurpose != .body {
                    // The head is complete and its body is not: the body has a bounded time from now.
                    self.armTimer(millis: self.settings.configuration.bodyTimeoutMillis, purpose: .body)
                }
                return
            }
            switch event {
            case .head(let head):
                let handler = self.handler.resolvedHandler(for: head)
                self.requestHandler = handler
                self.bodyLimit = handler.maxBodySize(for: head) ?? self.settings.configuration.limits.maxBodySize
                let expectsContinue = head.expectsContinue
                // Moved in last, not copied (a copy cost about 130 instructions in retains and releases).
                self.head = consume head
                self.body = []
                if expectsContinue {
                    // curl waits for this before sending bodies over 1 KiB.
                    self.connection.write(HTTPResponseEncoder.continueResponse)
                }
                // The body timer is armed only if the body is still missing when the buffer runs out
                // (below): a request that came whole skips a timer update.
            case .body(let chunk):
                guard self.body.count + chunk.count <= self.bodyLimit else {
                    self.fail(status: 413, message: "Payload Too Large")
                    return
                }
                self.body.append(contentsOf: chunk)
            case .end:
                // Moved out, not copied: a copy of the head cost about 130 instructions in retains and releases.
                guard let head = self.head.take() else { return }
                var body: [UInt8] = []
                swap(&body, &self.body)
                var request = self.request(head: head, body: body)
                self.dispatch(request, buffer: &buffer)
                // A handler that kept the request keeps its headers; otherwise their storage is reused (not after
                // an upgrade: this connection reads no more requests).
                if !self.upgraded { self.parser.recycle(&request.head.headers) }
            }
        }
    }

    private func request(head: consuming HTTPRequestHead, body: consuming [UInt8]) -> HTTPRequest {
        let peer = self.connection.remoteHost
        let secure = self.connection.isSecure
        guard self.settings.configuration.trustProxy else { return HTTPRequest(head: head, body: body, remoteAddress: peer, isSecure: secure) }
        return HTTPRequest(head: head, body: body, remoteAddress: ForwardedHeaders.clientAddress(head.headers, peer: peer),
                           isSecure: ForwardedHeaders.isSecure(head.headers, fallback: secure))
    }

    private func dispatch(_ request: HTTPRequest, buffer: inout ByteBuffer) {
        let handler = self.requestHandler ?? self.handler
        self.requestHandler = nil
        // An idle timer stays on the schedule while the request is handled: if it fires meanwhile it sees
        // the exchange and lets go (see `timedOut`). Only a header or body timer is taken off.
        if self.timerPurpose != .idle { self.disarmTimer() }
        // The cheap test first: a plain request has no Upgrade field, and the token search cost about 180
        // instructions per request (the token is read in place, not opened from a String).
        if request.headers.contains(.upgrade) && request.headers.listsToken("upgrade", in: .connection) {
            switch handler.upgrade(request, connection: self.connection) {
            case .upgraded:
                self.upgraded = true
                self.cancelTimer()
                // Frames sent right behind the handshake belong to the new protocol (a handler that is
                // moving the connection to another loop leaves them buffered until it gets there).
                if !buffer.isEmpty, let next = self.connection.handler, next !== self {
                    next.connectionRead(self.connection, &buffer)
                }
                return
            case .rejected(let response):
                self.keepAlive = false
                let exchange = HTTPExchange(loop: self.connection.loop, method: request.method, connection: self)
                self.current = exchange
                exchange.respond(response)
                return
            case .notHandled:
                break
            }
        }
        // Read only for a request that gets an answer: an upgrade has no use for it (a token search in
        // `Connection`, about 230 instructions per new WebSocket).
        self.keepAlive = request.head.keepAlive
        let exchange = HTTPExchange(loop: self.connection.loop, method: request.method, connection: self)
        self.current = exchange
        handler.handle(request, exchange: exchange)
    }

    // MARK: Writing

    /// Writes the response of the current exchange (loop thread).
    func send(_ response: HTTPResponse, for exchange: HTTPExchange) {
        guard self.takeAnswer(of: exchange) else { return }
        let target = exchange.preferredLoop
        let headOnly = Self.isHeadOnly(exchange, status: response.status)
        switch response.body {
        case .bytes(let bytes):
            self.connection.withOutboundBuffer { out in
                Self.encoder.encodeHead(status: response.status, headers: response.headers,
                                               contentLength: bytes.count, keepAlive: self.keepAlive, into: &out)
                if !headOnly { out.append(contentsOf: bytes) }
            }
            self.finishExchange(movingTo: target)
        case .file(let path, let offset, let length):
            guard let stream = FileStream(path: path, offset: offset, length: length) else {
                self.connection.withOutboundBuffer { out in
                    Self.encoder.encodeHead(status: 404, headers: ["Content-Type": "text/plain"],
                                                   contentLength: 10, keepAlive: self.keepAlive, into: &out)
                    if !headOnly { out.append(contentsOf: Array("Not Found\n".utf8)) }
                }
                self.finishExchange()
                return
            }
            self.connection.withOutboundBuffer { out in
                Self.encoder.encodeHead(status: response.status, headers: response.headers,
                                               contentLength: length, keepAlive: self.keepAlive, into: &out)
            }
            if headOnly {
                self.finishExchange()
            } else {
                self.fileStream = stream
                self.pumpFile()
            }
        }
    }

    /// Writes the answer of the current exchange from a prepared head and its body (loop thread).
    func send(_ head: HTTPPreparedHead, body: [UInt8], for exchange: HTTPExchange) {
        guard self.takeAnswer(of: exchange) else { return }
        let headOnly = Self.isHeadOnly(exchange, status: head.status)
        self.connection.withOutboundBuffer { out in
            Self.encoder.encodeHead(head, contentLength: body.count, keepAlive: self.keepAlive, into: &out)
            if !headOnly { out.append(contentsOf: body) }
        }
        self.finishExchange(movingTo: exchange.preferredLoop)
    }

    /// Writes the answer of the current exchange from a prepared head and a body `write` appends in place.
    func send(_ head: HTTPPreparedHead, bodyLength: Int, writingBody write: (inout [UInt8]) -> Void,
              for exchange: HTTPExchange) {
        guard self.takeAnswer(of: exchange) else { return }
        let headOnly = Self.isHeadOnly(exchange, status: head.status)
        self.connection.withOutboundBuffer { out in
            Self.encoder.encodeHead(head, contentLength: bodyLength, keepAlive: self.keepAlive, into: &out)
            if !headOnly {
                out.reserveCapacity(out.count + bodyLength)
                write(&out)
            }
        }
        self.finishExchange(movingTo: exchange.preferredLoop)
    }

    /// Lets `exchange` go; true when its answer is to be written (it is current and the connection open).
    private func takeAnswer(of exchange: HTTPExchange) -> Bool {
        // The abandon handler may capture the exchange; an answered exchange must not keep it alive.
        exchange.abandonHandler = nil
        exchange.detach()
        return exchange === self.current && !self.connection.isClosed
    }

    private static func isHeadOnly(_ exchange: HTTPExchange, status: Int) -> Bool {
        exchange.method == "HEAD" || status == 204 || status == 304
    }

    /// Sends file chunks while the peer keeps up; resumes from `connectionWritable`.
    private func pumpFile() {
        guard let stream = self.fileStream else { return }
        while self.connection.isWritable && !self.connection.isClosed {
            switch stream.nextChunk() {
            case .some(let chunk):
                self.connection.write(chunk)
            case .none:
                self.fileStream = nil
                // A file that shrank under us cannot fill the announced length: end the connection.
                if stream.endedEarly { self.keepAlive = false }
                self.finishExchange()
                return
            }
        }
    }

    func connectionWritable(_ connection: TCPConnection) {
        if self.fileStream != nil { self.pumpFile() }
    }

    private func finishExchange(movingTo target: EventLoop? = nil) {
        self.current = nil
        if !self.keepAlive {
            // An idle timer left on the schedule during the request must not cut the graceful close short.
            self.disarmTimer()
            self.connection.closeGracefully()
            return
        }
        if let target, self.canMove(to: target) {
            self.move(to: target)
            return
        }
        self.armIdleTimer()
        // Pipelined requests may wait in the read buffer. Inside `parse` the loop there picks them up;
        // a response given later (long-polling) has to restart parsing itself.
        if !self.parsing { self.connection.reparseBufferedInput() }
    }

    /// Only a connection with nothing in progress moves: no request being parsed or waiting in the buffer.
    /// And only when connections are hashed evenly over the loops (half of them land away from their
    /// session): with the default shared socket a session's connections mostly share its loop already, and
    /// moving the others spread the work over more loops, which measured more CPU per message.
    private func canMove(to target: EventLoop) -> Bool {
        self.settings.configuration.connectionSpread == .evenHash
            && !self.moved && !self.parsing && target !== self.connection.loop && !self.upgraded
            && !self.connection.hasBufferedInput && !self.parser.isMidMessage && self.head == nil
    }

    /// Moves the idle keep-alive connection to `target`; its idle timer is armed again there.
    private func move(to target: EventLoop) {
        self.moved = true
        self.moving = true
        self.cancelTimer()
        self.connection.migrate(to: target) { [self] in
            self.moving = false
            self.armIdleTimer()
            self.connection.reparseBufferedInput()
        }
    }

    /// Answers a malformed or over-limit request and closes.
    private func fail(status: Int, message: String) {
        self.keepAlive = false
        let exchange = HTTPExchange(loop: self.connection.loop, method: "GET", connection: self)
        self.current = exchange
        exchange.respond(HTTPResponse.text(message + "\n", status: status))
    }

    // MARK: Timeouts

    private enum TimerPurpose { case idle, headers, body }
    @exclusivity(unchecked) private var timerPurpose: TimerPurpose = .idle

    /// When the idle connection may be closed; the idle timer's own deadline may be earlier (see `armIdleTimer`).
    @exclusivity(unchecked) private var idleDeadline: UInt64 = 0

    /// Starts the idle period. An idle timer still on the schedule (armed after the previous request, which
    /// came whole) is left there and only the deadline moves: when it fires it looks at the deadline and
    /// re-arms for the rest. That saves two updates of the loop's timer heap per keep-alive request.
    private func armIdleTimer() {
        let millis = self.settings.configuration.idleTimeoutMillis
        self.idleDeadline = monotonicNanos() &+ UInt64(max(0, millis)) &* 1_000_000
        if self.timerPurpose == .idle, let timer = self.timer, timer.isScheduled { return }
        self.armTimer(millis: millis)
    }

    private func armTimer(millis: Int, purpose: TimerPurpose = .idle) {
        self.timerPurpose = purpose
        let loop = self.connection.loop
        if let timer = self.timer {
            loop.reschedule(timer, afterMillis: millis)
        } else {
            self.timer = loop.scheduleCoarse(afterMillis: millis) { self.timedOut() }
        }
    }

    /// Stops the timer while a request is handled, keeping it (and its action) for the next `armTimer`.
    private func disarmTimer() {
        if let timer = self.timer { self.connection.loop.disarm(timer) }
    }

    /// Stops the timer for good, releasing its action (and so the connection it holds).
    private func cancelTimer() {
        if let timer = self.timer { self.connection.loop.cancel(timer) }
        self.timer = nil
    }

    private func timedOut() {
        guard let timer = self.timer else { return }
        self.timer = nil
        guard self.current == nil, !self.upgraded else { return }
        switch self.timerPurpose {
        case .idle:
            let now = monotonicNanos()
            guard now >= self.idleDeadline else {
                // A request came and went since the timer was armed: wait out the rest of the idle period.
                let millis = Int((self.idleDeadline - now + 999_999) / 1_000_000)
                self.timer = timer
                self.connection.loop.reschedule(timer, afterMillis: millis) { self.timedOut() }
                return
            }
            self.connection.close()
        case .headers, .body:
            self.fail(status: 408, message: "Request Timeout")
        }
    }

    func connectionClosed(_ connection: TCPConnection, error: Int32?) {
        self.cancelTimer()
        self.fileStream = nil
        let exchange = self.current
        self.current = nil
        exchange?.abandon()
    }
}

/// Reads a file region in chunks for a response body.
private final class FileStream {
    private let fd: Int32
    private var remaining: Int
    private(set) var endedEarly = false
    private static let chunkSize = 256 * 1024

    init?(path: String, offset: Int, length: Int) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        if offset > 0 && lseek(fd, off_t(offset), SEEK_SET) < 0 {
            close(fd)
            return nil
        }
        self.fd = fd
        self.remaining = length
    }

    deinit { close(self.fd) }

    /// The next chunk, or nil at the end (a short file ends the body early; the peer sees the short length).
    func nextChunk() -> [UInt8]? {
        guard self.remaining > 0 else { return nil }
        let want = min(self.remaining, Self.chunkSize)
        var chunk = [UInt8](repeating: 0, count: want)
        let got = chunk.withUnsafeMutableBytes { read(self.fd, $0.baseAddress, want) }
        guard got > 0 else {
            self.endedEarly = true
            self.remaining = 0
            return nil
        }
        self.remaining -= got
        if got < want { chunk.removeLast(want - got) }
        return chunk
    }
}
