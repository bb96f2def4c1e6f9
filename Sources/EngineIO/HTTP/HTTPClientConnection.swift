/// A request as an HTTP client sends it.
public struct HTTPClientRequest: Sendable {
    /// The method, e.g. "GET".
    public var method: String
    /// The request target: path plus query, e.g. `/socket.io/?EIO=4&transport=polling`.
    public var target: String
    /// Header fields; `Host` and `Content-Length` are added when absent.
    public var headers: HTTPHeaders
    /// The body (sent with a `Content-Length`).
    public var body: [UInt8]

    /// Creates a request.
    public init(method: String = "GET", target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
    }

    /// Appends the request's wire form to `output`.
    public func encode(host: String, into output: inout [UInt8]) {
        output.append(contentsOf: self.method.utf8)
        output.append(0x20)
        output.append(contentsOf: (self.target.isEmpty ? "/" : self.target).utf8)
        output.append(contentsOf: " HTTP/1.1\r\n".utf8)
        if !self.headers.contains("Host") {
            output.append(contentsOf: "Host: \(host)\r\n".utf8)
        }
        for field in self.headers {
            // Line breaks in a value would let it inject fields; drop them.
            output.append(contentsOf: field.name.utf8.filter { $0 != 0x0D && $0 != 0x0A })
            output.append(contentsOf: ": ".utf8)
            output.append(contentsOf: field.value.utf8.filter { $0 != 0x0D && $0 != 0x0A })
            output.append(contentsOf: "\r\n".utf8)
        }
        let method = self.method.uppercased()
        if !self.headers.contains("Content-Length") && (!self.body.isEmpty || method == "POST" || method == "PUT" || method == "PATCH") {
            output.append(contentsOf: "Content-Length: \(self.body.count)\r\n".utf8)
        }
        output.append(contentsOf: "\r\n".utf8)
        output.append(contentsOf: self.body)
    }
}

/// One keep-alive HTTP/1.1 client connection: one request at a time, each with a timeout, over a plain or
/// TLS stream. Used on its loop's thread only; completions run there.
///
/// A 101 (Switching Protocols) answer ends HTTP on the connection: `takeUpgradedStream()` hands the stream
/// and the bytes already read after the head to the new protocol (a WebSocket).
public final class HTTPClientConnection: ClientStreamDelegate, @unchecked Sendable {
    // Invariant for @unchecked Sendable: used on `stream.loop`'s thread only.

    /// The `Host` header value sent with each request.
    public let hostHeader: String
    private var stream: (any ClientStream)?
    private var parser: HTTPResponseParser
    private var inFlight: InFlight?
    private var leftover = ByteBuffer()
    private var upgraded = false
    /// Called once when the connection closes while idle (the server ended a keep-alive connection).
    public var onIdleClose: (() -> Void)?

    private struct InFlight {
        var isHead: Bool
        var timer: LoopTimer?
        var completion: (Result<HTTPClientResponse, HTTPClientError>) -> Void
    }

    /// Wraps an open stream.
    public init(stream: any ClientStream, hostHeader: String, limits: HTTPClientLimits = HTTPClientLimits()) {
        self.stream = stream
        self.hostHeader = hostHeader
        self.parser = HTTPResponseParser(limits: limits)
        stream.delegate = self
    }

    /// Connects with `connector` and calls `completion` on `loop` with a ready connection.
    public static func connect(
        host: String, port: Int, hostHeader: String? = nil, connector: any ClientStreamConnector = TCPStreamConnector(),
        on loop: EventLoop, timeoutMillis: Int = 10_000, limits: HTTPClientLimits = HTTPClientLimits(),
        _ completion: @escaping @Sendable (Result<HTTPClientConnection, HTTPClientError>) -> Void
    ) {
        let header = hostHeader ?? Self.hostHeader(host: host, port: port, defaultPort: 80)
        connector.connect(host: host, port: port, on: loop, timeoutMillis: timeoutMillis) { result in
            switch result {
            case .success(let stream):
                completion(.success(HTTPClientConnection(stream: stream, hostHeader: header, limits: limits)))
            case .failure(let error):
                completion(.failure(.connectFailed(String(describing: error))))
            }
        }
    }

    /// `host[:port]` as the `Host` header wants it (the port omitted when it is the scheme's default).
    public static func hostHeader(host: String, port: Int, defaultPort: Int) -> String {
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return port == defaultPort ? bracketed : "\(bracketed):\(port)"
    }

    /// The loop that owns the connection.
    public var loop: EventLoop? { self.stream?.loop }

    /// Whether a new request may be sent now.
    public var isReady: Bool {
        guard let stream = self.stream else { return false }
        return !stream.isClosed && self.inFlight == nil && !self.upgraded
    }

    /// Whether the connection is closed or handed over.
    public var isClosed: Bool { self.stream?.isClosed ?? true }

    /// Sends `request`; `completion` gets the response, or an error after which the connection is closed.
    public func execute(
        _ request: HTTPClientRequest, timeoutMillis: Int,
        _ completion: @escaping (Result<HTTPClientResponse, HTTPClientError>) -> Void
    ) {
        guard let stream = self.stream, !stream.isClosed, !self.upgraded else {
            completion(.failure(.connectionClosed))
            return
        }
        guard self.inFlight == nil else {
            completion(.failure(.busy))
            return
        }
        var exchange = InFlight(isHead: request.method.uppercased() == "HEAD", timer: nil, completion: completion)
        if timeoutMillis > 0 {
            exchange.timer = stream.loop.schedule(afterMillis: timeoutMillis) { [weak self] in
                self?.fail(.timedOut)
            }
        }
        self.inFlight = exchange
        let host = self.hostHeader
        stream.withOutboundBuffer { request.encode(host: host, into: &$0) }
    }

    /// After a 101 response: detaches the stream (its delegate becomes nil) and returns it with the bytes
    /// that followed the response head.
    public func takeUpgradedStream() -> (stream: any ClientStream, leftover: ByteBuffer)? {
        guard self.upgraded, let stream = self.stream else { return nil }
        self.stream = nil
        stream.delegate = nil
        let leftover = self.leftover
        self.leftover = ByteBuffer()
        return (stream, leftover)
    }

    /// Closes the connection; a request in flight fails with `.connectionClosed`.
    public func close() {
        self.onIdleClose = nil
        guard let stream = self.stream else { return }
        stream.close()
        self.fail(.connectionClosed)
    }

    // MARK: ClientStreamDelegate

    public func streamRead(_ stream: any ClientStream, _ buffer: inout ByteBuffer) {
        guard !self.upgraded else { return }
        guard let exchange = self.inFlight else {
            // Bytes nobody asked for: the server is confused; do not reuse this connection.
            buffer.clear()
            stream.close()
            return
        }
        let response: HTTPClientResponse?
        do {
            response = try self.parser.parse(&buffer, isHeadRequest: exchange.isHead)
        } catch {
            buffer.clear()
            self.fail(error)
            return
        }
        guard let response else { return }
        self.inFlight = nil
        if let timer = exchange.timer { stream.loop.cancel(timer) }
        if response.status == 101 {
            self.upgraded = true
            self.leftover = ByteBuffer(bytes: buffer.readAll())
        } else if !response.keepAlive {
            stream.closeGracefully()
        }
        exchange.completion(.success(response))
    }

    public func streamClosed(_ stream: any ClientStream, error: Int32?) {
        if self.inFlight != nil {
            // A response delimited by the end of the connection is complete now.
            if let response = try? self.parser.finish() {
                let exchange = self.inFlight!
                self.inFlight = nil
                if let timer = exchange.timer { stream.loop.cancel(timer) }
                exchange.completion(.success(response))
            } else {
                self.fail(.connectionClosed)
            }
        } else {
            let onIdleClose = self.onIdleClose
            self.onIdleClose = nil
            onIdleClose?()
        }
    }

    private func fail(_ error: HTTPClientError) {
        guard let exchange = self.inFlight else { return }
        self.inFlight = nil
        if let timer = exchange.timer, let loop = self.stream?.loop { loop.cancel(timer) }
        if let stream = self.stream, !stream.isClosed { stream.close() }
        exchange.completion(.failure(error))
    }
}
