#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import Transport

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
                guard let headLength = try self.findHeadEnd(buffer) else { return nil }
                self.scanned = 0
                // Parsed where it lies in the read buffer; the head is consumed even when it is refused.
                let head = buffer.withReadableBytes { raw in
                    Self.parseHead(UnsafeRawBufferPointer(rebasing: raw[0..<headLength]), limits: self.limits)
                }
                buffer.moveReaderIndex(forwardBy: headLength)
                switch head {
                case .success(let response): self.response = response
                case .failure(let error): throw error
                }
                let status = self.response.status
                if status >= 100 && status < 200 && status != 101 {
                    self.response = HTTPClientResponse(status: 0)
                    continue
                }
                if status == 101 || status == 204 || status == 304 || isHeadRequest {
                    return self.complete()
                }
                let headers = self.response.headers
                if headers.fields.contains(where: { !$0.value.isEmpty && $0.name.asciiCaseInsensitiveEquals("Transfer-Encoding") }) {
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
                guard let line = try Self.lineLength(buffer, limit: 1024) else { return nil }
                let size = buffer.withReadableBytes { raw in
                    Self.chunkSize(UnsafeRawBufferPointer(rebasing: raw[0..<line.content]))
                }
                buffer.moveReaderIndex(forwardBy: line.total)
                guard let size, size >= 0 else { throw .invalidResponse("bad chunk size") }
                guard size <= self.limits.maxBodySize - self.response.body.count else { throw .responseTooLarge }
                self.state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let count = min(remaining, buffer.readableBytes)
                guard count > 0 else { return nil }
                self.appendBody(from: &buffer, count: count)
                self.state = remaining - count == 0 ? .chunkDataEnd : .chunkData(remaining: remaining - count)
            case .chunkDataEnd:
                guard let line = try Self.lineLength(buffer, limit: 2) else { return nil }
                buffer.moveReaderIndex(forwardBy: line.total)
                guard line.content == 0 else { throw .invalidResponse("chunk not followed by CRLF") }
                self.state = .chunkSize
            case .trailers:
                guard let line = try Self.lineLength(buffer, limit: self.limits.maxHeaderBytes) else { return nil }
                buffer.moveReaderIndex(forwardBy: line.total)
                if line.content == 0 { return self.complete() }
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

    /// The length of the head (through CRLFCRLF, or LFLF from lenient servers), scanning only new bytes.
    private mutating func findHeadEnd(_ buffer: ByteBuffer) throws(HTTPClientError) -> Int? {
        let from = max(0, self.scanned - 3)
        let found: Int? = buffer.withReadableBytes { raw in
            guard let base = raw.baseAddress else { return nil }
            var index = from
            // Only LFs can end the head: jump from one to the next.
            while index < raw.count, let hit = memchr(base + index, 0x0A, raw.count - index) {
                index = base.distance(to: UnsafeRawPointer(hit))
                if index >= 1 && raw[index - 1] == 0x0A { return index + 1 }
                if index >= 3 && raw[index - 1] == 0x0D && raw[index - 2] == 0x0A && raw[index - 3] == 0x0D {
                    return index + 1
                }
                index += 1
            }
            return nil
        }
        if let found { return found }
        // Leading empty lines before a status line are tolerated (RFC 9112 §2.2) by `parseHead`.
        self.scanned = buffer.readableBytes
        if self.scanned > self.limits.maxHeaderBytes { throw .invalidResponse("response head too large") }
        return nil
    }

    /// Parses a complete head (status line and fields, with its final empty line), creating Strings only for
    /// what the response keeps.
    private static func parseHead(_ head: UnsafeRawBufferPointer, limits: HTTPClientLimits) -> Result<HTTPClientResponse, HTTPClientError> {
        guard head.count <= limits.maxHeaderBytes else { return .failure(.invalidResponse("response head too large")) }
        var position = 0
        var statusLine: Range<Int>?
        while position < head.count && statusLine == nil {
            let line = Self.line(in: head, from: position)
            position = line.next
            if !line.content.isEmpty { statusLine = line.content }
        }
        guard let statusLine else { return .failure(.invalidResponse("empty response head")) }
        guard let (status, minor, reason) = Self.parseStatusLine(UnsafeRawBufferPointer(rebasing: head[statusLine])) else {
            return .failure(.invalidResponse("bad status line"))
        }
        var headers = HTTPHeaders()
        headers.reserveCapacity(8)
        while position < head.count {
            let line = Self.line(in: head, from: position)
            position = line.next
            if line.content.isEmpty { continue }
            let bytes = UnsafeRawBufferPointer(rebasing: head[line.content])
            // The name is everything before the first colon (not trimmed; a folded line has no name).
            guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon > 0 else {
                return .failure(.invalidResponse("bad header line"))
            }
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<colon]), as: UTF8.self)
            headers.add(name, Self.fieldValue(UnsafeRawBufferPointer(rebasing: bytes[(colon + 1)...])))
            guard headers.count <= limits.maxHeaderCount else { return .failure(.invalidResponse("too many headers")) }
        }
        var keepAlive = minor >= 1
        if headers.hasToken("close", in: "Connection") { keepAlive = false }
        if minor == 0 && headers.hasToken("keep-alive", in: "Connection") { keepAlive = true }
        return .success(HTTPClientResponse(status: status, reason: reason, versionMinor: minor, headers: headers,
                                           body: [], keepAlive: keepAlive))
    }

    /// The line starting at `start`: its content (without the LF and one CR before it) and where the next
    /// line starts.
    private static func line(in head: UnsafeRawBufferPointer, from start: Int) -> (content: Range<Int>, next: Int) {
        var end = head.count
        if let base = head.baseAddress, let hit = memchr(base + start, 0x0A, head.count - start) {
            end = base.distance(to: UnsafeRawPointer(hit))
        }
        let next = end + 1
        if end > start && head[end - 1] == 0x0D { end -= 1 }
        return (start..<end, next)
    }

    /// "HTTP/1.x SSS reason": the version is exactly `HTTP/1.` and a digit, the status three digits from 100,
    /// the reason (optional, spaces and all) everything after the second space.
    private static func parseStatusLine(_ line: UnsafeRawBufferPointer) -> (status: Int, minor: Int, reason: String)? {
        guard let space = line.firstIndex(of: 0x20), space == 8, line.starts(with: Self.versionPrefix),
              let minor = Self.digit(line[7])
        else { return nil }
        let statusEnd = line[(space + 1)...].firstIndex(of: 0x20) ?? line.count
        guard statusEnd - space == 4, let d0 = Self.digit(line[9]), let d1 = Self.digit(line[10]),
              let d2 = Self.digit(line[11])
        else { return nil }
        let status = d0 * 100 + d1 * 10 + d2
        guard status >= 100 else { return nil }
        let reason = statusEnd < line.count
            ? String(decoding: UnsafeRawBufferPointer(rebasing: line[(statusEnd + 1)...]), as: UTF8.self) : ""
        return (status, minor, reason)
    }

    private static let versionPrefix: [UInt8] = Array("HTTP/1.".utf8)

    @inline(__always)
    private static func digit(_ byte: UInt8) -> Int? {
        byte >= 0x30 && byte <= 0x39 ? Int(byte - 0x30) : nil
    }

    /// A field value without surrounding spaces and tabs.
    private static func fieldValue(_ bytes: UnsafeRawBufferPointer) -> String {
        var lower = 0, upper = bytes.count
        while lower < upper && (bytes[lower] == 0x20 || bytes[lower] == 0x09) { lower += 1 }
        while upper > lower && (bytes[upper - 1] == 0x20 || bytes[upper - 1] == 0x09) { upper -= 1 }
        // Trimming bytes equals trimming Characters unless a space borders a non-ASCII scalar (a combining
        // mark can join it into one Character, which then stays): those rare values take the String path.
        guard lower == upper || (bytes[lower] < 0x80 && bytes[upper - 1] < 0x80) else {
            return String(String(decoding: bytes, as: UTF8.self).trimmingASCIISpaces())
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[lower..<upper]), as: UTF8.self)
    }

    /// The length of the CRLF- (or LF-) terminated line at the front of `buffer`, without (`content`) and with
    /// (`total`) its terminator; nil while incomplete.
    private static func lineLength(_ buffer: ByteBuffer, limit: Int) throws(HTTPClientError) -> (content: Int, total: Int)? {
        let end: Int? = buffer.withReadableBytes { raw in
            guard let base = raw.baseAddress, let hit = memchr(base, 0x0A, raw.count) else { return nil }
            return base.distance(to: UnsafeRawPointer(hit))
        }
        guard let end else {
            if buffer.readableBytes > limit + 2 { throw .invalidResponse("line too long") }
            return nil
        }
        guard end <= limit + 1 else { throw .invalidResponse("line too long") }
        let content = end > 0 && buffer.peek(at: end - 1) == 0x0D ? end - 1 : end
        return (content, end + 1)
    }

    /// The size on a chunk-size line: hex before the first `;` (extensions ignored), spaces around it allowed.
    private static func chunkSize(_ line: UnsafeRawBufferPointer) -> Int? {
        // Kept on Characters, as it always was; only chunked responses get here, once per chunk.
        let text = String(decoding: line, as: UTF8.self)
        // The first non-empty piece between semicolons (what `split(separator: ";").first` gives).
        let piece = text.drop { $0 == ";" }.prefix { $0 != ";" }
        return Int(piece.trimmingASCIISpaces(), radix: 16)
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
