import Transport

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
    ///
    /// CR and LF are dropped from header names and values (a line break there would let a value inject
    /// fields); the method and target are written as given.
    public func encode(host: String, into output: inout [UInt8]) {
        // Runs for every polling request and WebSocket upgrade: bytes are copied in bulk, no String is built.
        Self.appendUTF8(self.method, to: &output)
        output.append(0x20)
        if self.target.isEmpty { output.append(UInt8(ascii: "/")) } else { Self.appendUTF8(self.target, to: &output) }
        output.append(contentsOf: Self.versionLine)
        if !self.headers.contains("Host") {
            output.append(contentsOf: Self.hostName)
            Self.appendUTF8(host, to: &output)
            Self.appendCRLF(to: &output)
        }
        for field in self.headers {
            Self.appendDroppingLineBreaks(field.name, to: &output)
            output.append(0x3A)
            output.append(0x20)
            Self.appendDroppingLineBreaks(field.value, to: &output)
            Self.appendCRLF(to: &output)
        }
        if !self.headers.contains("Content-Length")
            && (!self.body.isEmpty || Self.method(self.method, isAnyOf: Self.bodyMethods))
        {
            output.append(contentsOf: Self.contentLengthName)
            output.append(contentsOf: String(self.body.count).utf8)
            Self.appendCRLF(to: &output)
        }
        Self.appendCRLF(to: &output)
        output.append(contentsOf: self.body)
    }

    private static let versionLine: [UInt8] = Array(" HTTP/1.1\r\n".utf8)
    private static let hostName: [UInt8] = Array("Host: ".utf8)
    private static let contentLengthName: [UInt8] = Array("Content-Length: ".utf8)

    @inline(__always)
    private static func appendCRLF(to output: inout [UInt8]) {
        output.append(0x0D)
        output.append(0x0A)
    }

    /// Methods that announce an empty body with `Content-Length: 0` (servers may answer 411 otherwise).
    private static let bodyMethods = ["POST", "PUT", "PATCH"]
    static let headMethod = ["HEAD"]

    /// Whether `method`, uppercased, is one of `names` (uppercase ASCII).
    static func method(_ method: String, isAnyOf names: [String]) -> Bool {
        // ASCII (every real method) compares in place; anything else keeps the Unicode uppercasing used before
        // ("POſT" uppercases to "POST").
        let isASCII = method.utf8.withContiguousStorageIfAvailable { $0.allSatisfy { $0 < 0x80 } }
            ?? method.utf8.allSatisfy { $0 < 0x80 }
        if isASCII { return names.contains { method.asciiCaseInsensitiveEquals($0) } }
        let uppercased = method.uppercased()
        return names.contains(uppercased)
    }

    private static func appendUTF8(_ text: String, to output: inout [UInt8]) {
        if text.utf8.withContiguousStorageIfAvailable({ output.append(contentsOf: $0) }) == nil {
            output.append(contentsOf: text.utf8)
        }
    }

    /// Appends the UTF-8 of `text` without its CR and LF bytes.
    private static func appendDroppingLineBreaks(_ text: String, to output: inout [UInt8]) {
        // Nearly always there is nothing to drop: one scan of the contiguous bytes, then one bulk copy.
        let copied = text.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            for byte in bytes where byte == 0x0D || byte == 0x0A { return false }
            output.append(contentsOf: bytes)
            return true
        }
        if copied == true { return }
        for byte in text.utf8 where byte != 0x0D && byte != 0x0A { output.append(byte) }
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
        var exchange = InFlight(
            isHead: HTTPClientRequest.method(request.method, isAnyOf: HTTPClientRequest.headMethod), timer: nil, completion: completion)
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

    /// ClientStreamDelegate: parses response bytes as they arrive.
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

    /// ClientStreamDelegate: fails the request in flight, if any.
    public func streamClosed(_ stream: any ClientStream, error: Int32?) {
        if let exchange = self.inFlight {
            // A response delimited by the end of the connection is complete now.
            if let response = try? self.parser.finish() {
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
