/// A response as an HTTP client receives it, with the whole body buffered.
public struct HTTPClientResponse: Sendable {
    /// The status code, e.g. 200.
    public var status: Int
    /// The reason phrase, e.g. "OK".
    public var reason: String
    /// The minor HTTP version (0 or 1).
    public var versionMinor: Int
    /// The header fields, in order.
    public var headers: HTTPHeaders
    /// The body, de-chunked.
    public var body: [UInt8]
    /// Whether the connection may carry another request after this response.
    public var keepAlive: Bool

    /// Creates a response.
    public init(status: Int, reason: String = "", versionMinor: Int = 1, headers: HTTPHeaders = HTTPHeaders(),
                body: [UInt8] = [], keepAlive: Bool = true) {
        self.status = status
        self.reason = reason
        self.versionMinor = versionMinor
        self.headers = headers
        self.body = body
        self.keepAlive = keepAlive
    }
}

/// Limits a client puts on what a server may send it.
public struct HTTPClientLimits: Sendable, Equatable {
    /// Largest status line plus headers, in bytes.
    public var maxHeaderBytes: Int
    /// Most header fields.
    public var maxHeaderCount: Int
    /// Largest body, in bytes after de-chunking.
    public var maxBodySize: Int

    /// Creates limits (defaults: 64 KiB of headers, 100 fields, 16 MiB of body).
    public init(maxHeaderBytes: Int = 64 * 1024, maxHeaderCount: Int = 100, maxBodySize: Int = 16 * 1024 * 1024) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodySize = maxBodySize
    }
}

/// Incremental HTTP/1.1 response parser (RFC 9112): status line and headers, then a body framed by
/// `Content-Length`, chunked transfer coding, or the end of the connection.
///
/// Feed it the connection's read buffer after every read; it consumes what it recognises and keeps its
/// place between calls. Interim 1xx responses other than 101 are skipped; a 101 ends the response at its
/// head, leaving the bytes after it (the new protocol's) in the buffer.
public struct HTTPResponseParser: Sendable {
    private enum State: Sendable {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
    }

    /// The limits in force.
    public let limits: HTTPClientLimits
    private var state = State.head
    private var response = HTTPClientResponse(status: 0)
    private var scanned = 0

    /// Creates a parser.
    public init(limits: HTTPClientLimits = HTTPClientLimits()) {
        self.limits = limits
    }

    /// True while no byte of a response has been consumed (the connection is between responses).
    public var isIdle: Bool {
        if case .head = self.state { return self.scanned == 0 }
        return false
    }

    /// Reads from the front of `buffer`; returns a response once complete, nil when more bytes are needed.
    ///
    /// - Parameter isHeadRequest: true when the request was HEAD (its response has no body whatever it says).
    public mutating func parse(_ buffer: inout ByteBuffer, isHeadRequest: Bool = false) throws(HTTPClientError) -> HTTPClientResponse? {
        while true {
            switch self.state {
            case .head:
                guard let headEnd = try self.findHeadEnd(buffer) else { return nil }
                let headBytes = buffer.readBytes(headEnd.length)!
                self.scanned = 0
                try self.parseHead(headBytes, terminatorLength: headEnd.terminator)
                let status = self.response.status
                if status >= 100 && status < 200 && status != 101 {
                    self.response = HTTPClientResponse(status: 0)
                    continue
                }
                if status == 101 || status == 204 || status == 304 || isHeadRequest {
                    return self.complete()
                }
                let headers = self.response.headers
                if headers.values("Transfer-Encoding").contains(where: { !$0.isEmpty }) {
                    guard headers.hasToken("chunked", in: "Transfer-Encoding") else {
                        throw .invalidResponse("unsupported transfer coding")
                    }
                    self.state = .chunkSize
                } else if let lengthText = headers["Content-Length"] {
                    guard let length = Int(lengthText.trimmingASCIISpaces()), length >= 0 else {
                        throw .invalidResponse("bad Content-Length")
                    }
                    guard length <= self.limits.maxBodySize else { throw .responseTooLarge }
                    if length == 0 { return self.complete() }
                    self.response.body.reserveCapacity(length)
                    self.state = .fixed(remaining: length)
                } else {
                    self.response.keepAlive = false
                    self.state = .untilClose
                }
            case .fixed(let remaining):
                let count = min(remaining, buffer.readableBytes)
                guard count > 0 else { return nil }
                self.appendBody(from: &buffer, count: count)
                if remaining - count == 0 { return self.complete() }
                self.state = .fixed(remaining: remaining - count)
                return nil
            case .chunkSize:
                guard let line = try self.readLine(&buffer, limit: 1024) else { return nil }
                let sizeText = line.split(separator: ";", maxSplits: 1).first.map { $0.trimmingASCIISpaces() } ?? ""
                guard let size = Int(sizeText, radix: 16), size >= 0 else { throw .invalidResponse("bad chunk size") }
                guard size <= self.limits.maxBodySize - self.response.body.count else { throw .responseTooLarge }
                self.state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let count = min(remaining, buffer.readableBytes)
                guard count > 0 else { return nil }
                self.appendBody(from: &buffer, count: count)
                self.state = remaining - count == 0 ? .chunkDataEnd : .chunkData(remaining: remaining - count)
            case .chunkDataEnd:
                guard let line = try self.readLine(&buffer, limit: 2) else { return nil }
                guard line.isEmpty else { throw .invalidResponse("chunk not followed by CRLF") }
                self.state = .chunkSize
            case .trailers:
                guard let line = try self.readLine(&buffer, limit: self.limits.maxHeaderBytes) else { return nil }
                if line.isEmpty { return self.complete() }
            case .untilClose:
                let count = buffer.readableBytes
                guard count > 0 else { return nil }
                guard count <= self.limits.maxBodySize - self.response.body.count else { throw .responseTooLarge }
                self.appendBody(from: &buffer, count: count)
                return nil
            }
        }
    }

    /// The connection ended: completes a body delimited by the close, or reports a truncated response.
    public mutating func finish() throws(HTTPClientError) -> HTTPClientResponse? {
        switch self.state {
        case .untilClose:
            return self.complete()
        case .head where self.scanned == 0:
            return nil
        default:
            throw .connectionClosed
        }
    }

    // MARK: Pieces

    private mutating func complete() -> HTTPClientResponse {
        let response = self.response
        self.response = HTTPClientResponse(status: 0)
        self.state = .head
        self.scanned = 0
        return response
    }

    private mutating func appendBody(from buffer: inout ByteBuffer, count: Int) {
        buffer.withReadableBytes { raw in
            self.response.body.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[0..<count]))
        }
        buffer.moveReaderIndex(forwardBy: count)
    }

    /// Where the head ends (after CRLFCRLF, or LFLF from lenient servers), scanning only new bytes.
    private mutating func findHeadEnd(_ buffer: ByteBuffer) throws(HTTPClientError) -> (length: Int, terminator: Int)? {
        let found: (Int, Int)? = buffer.withReadableBytes { raw in
            var index = max(0, self.scanned - 3)
            while index < raw.count {
                if raw[index] == 0x0A {
                    if index >= 1 && raw[index - 1] == 0x0A { return (index + 1, 2) }
                    if index >= 3 && raw[index - 1] == 0x0D && raw[index - 2] == 0x0A && raw[index - 3] == 0x0D {
                        return (index + 1, 4)
                    }
                }
                index += 1
            }
            return nil
        }
        if let found { return (found.0, found.1) }
        // Leading empty lines before a status line are tolerated (RFC 9112 §2.2) by the line split below.
        self.scanned = buffer.readableBytes
        if self.scanned > self.limits.maxHeaderBytes { throw .invalidResponse("response head too large") }
        return nil
    }

    private mutating func parseHead(_ bytes: [UInt8], terminatorLength: Int) throws(HTTPClientError) {
        guard bytes.count <= self.limits.maxHeaderBytes else { throw .invalidResponse("response head too large") }
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { line -> ArraySlice<UInt8> in
            line.last == 0x0D ? line.dropLast() : line
        }
        while let first = lines.first, first.isEmpty { lines.removeFirst() }
        guard let statusLine = lines.first else { throw .invalidResponse("empty response head") }
        // "HTTP/1.1 200 OK": version, status, optional reason.
        let parts = statusLine.split(separator: 0x20, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].starts(with: "HTTP/1.".utf8), parts[0].count == 8,
              let minor = Int(String(decoding: parts[0].suffix(1), as: UTF8.self)),
              parts[1].count == 3, let status = Int(String(decoding: parts[1], as: UTF8.self)), status >= 100
        else { throw .invalidResponse("bad status line") }
        var headers = HTTPHeaders()
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else {
                throw .invalidResponse("bad header line")
            }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingASCIISpaces()
            headers.add(name, String(value))
            guard headers.count <= self.limits.maxHeaderCount else { throw .invalidResponse("too many headers") }
        }
        let reason = parts.count > 2 ? String(decoding: parts[2], as: UTF8.self) : ""
        var keepAlive = minor >= 1
        if headers.hasToken("close", in: "Connection") { keepAlive = false }
        if minor == 0 && headers.hasToken("keep-alive", in: "Connection") { keepAlive = true }
        self.response = HTTPClientResponse(status: status, reason: reason, versionMinor: minor, headers: headers,
                                           body: [], keepAlive: keepAlive)
    }

    /// Reads one CRLF- (or LF-) terminated line, without its terminator.
    private func readLine(_ buffer: inout ByteBuffer, limit: Int) throws(HTTPClientError) -> String? {
        let end: Int? = buffer.withReadableBytes { raw in raw.firstIndex(of: 0x0A) }
        guard let end else {
            if buffer.readableBytes > limit + 2 { throw .invalidResponse("line too long") }
            return nil
        }
        guard end <= limit + 1 else { throw .invalidResponse("line too long") }
        var bytes = buffer.readBytes(end + 1)!
        bytes.removeLast()
        if bytes.last == 0x0D { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Why an HTTP client exchange failed.
public enum HTTPClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The connection could not be made (the connector's message).
    case connectFailed(String)
    /// No complete response arrived within the timeout.
    case timedOut
    /// The server closed the connection before a complete response.
    case connectionClosed
    /// The response broke HTTP/1.1 syntax.
    case invalidResponse(String)
    /// The response body is above the limit.
    case responseTooLarge
    /// A request was started while another was still in flight on the connection.
    case busy

    public var description: String {
        switch self {
        case .connectFailed(let reason): return "connect failed: \(reason)"
        case .timedOut: return "timed out"
        case .connectionClosed: return "connection closed"
        case .invalidResponse(let reason): return "invalid response: \(reason)"
        case .responseTooLarge: return "response too large"
        case .busy: return "connection busy"
        }
    }
}
