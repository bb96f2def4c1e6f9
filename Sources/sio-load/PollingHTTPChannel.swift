import EngineIO
import Glibc
import Transport

/// One keep-alive HTTP/1.1 connection carrying one request at a time, for the long-polling hot path.
///
/// `HTTPClientConnection` builds an `HTTPHeaders` of `String`s for every response and encodes every
/// request field by field; at tens of thousands of polls a second that made the generator cost more than
/// the server it measures. This channel writes requests from bytes prepared once per session and reads only
/// what framing needs (status, `Content-Length`, chunked coding, `Connection: close`), as `sioload` does.
/// The body is lent to `onResponse` for the duration of the call. A closed connection is reopened by the
/// next request.
final class PollingHTTPChannel: ConnectionHandler, @unchecked Sendable {
    // Invariant for @unchecked Sendable: used on `loop`'s thread only.

    /// A complete response: its status and body (valid only during the call).
    var onResponse: (Int, UnsafeRawBufferPointer) -> Void = { _, _ in }
    /// The connection failed or the response was not HTTP; `protocolError` for the latter.
    var onFailure: (String, Bool) -> Void = { _, _ in }

    private let loop: EventLoop
    private let host: String
    private let port: Int
    private let connectTimeoutMillis: Int
    @exclusivity(unchecked) private var connection: TCPConnection?
    private var connecting = false
    /// A request written while the connection is being (re)opened.
    private var waitingOutput: [UInt8] = []
    /// True from a request until its response.
    @exclusivity(unchecked) private(set) var isBusy = false
    private var closed = false
    /// A chunked body being put together.
    private var chunked: [UInt8] = []

    init(loop: EventLoop, host: String, port: Int, connectTimeoutMillis: Int) {
        self.loop = loop
        self.host = host
        self.port = port
        self.connectTimeoutMillis = connectTimeoutMillis
    }

    /// Sends a request whose bytes `write` appends (head, then body); the answer comes to `onResponse`.
    func request(_ write: (inout [UInt8]) -> Void) {
        guard !self.closed else { return }
        self.isBusy = true
        if let connection = self.connection, !connection.isClosed {
            connection.withOutboundBuffer(write)
            return
        }
        self.connection = nil
        write(&self.waitingOutput)
        guard !self.connecting else { return }
        self.connecting = true
        TCPConnector.connect(host: self.host, port: self.port, on: self.loop, timeoutMillis: self.connectTimeoutMillis) { [self] result in
            self.connecting = false
            switch result {
            case .failure(let error):
                self.fail("http connect: \(error)", protocolError: false)
            case .success(let connection):
                guard !self.closed else {
                    connection.close()
                    return
                }
                connection.handler = self
                self.connection = connection
                var output: [UInt8] = []
                swap(&output, &self.waitingOutput)
                connection.write(output)
            }
        }
    }

    /// Closes the connection; nothing more is reported.
    func close() {
        self.closed = true
        self.isBusy = false
        if let connection = self.connection {
            connection.handler = nil
            connection.close()
        }
        self.connection = nil
    }

    private func fail(_ reason: String, protocolError: Bool) {
        guard !self.closed else { return }
        self.close()
        self.onFailure(reason, protocolError)
    }

    // MARK: ConnectionHandler

    func connectionRead(_ connection: TCPConnection, _ buffer: inout ByteBuffer) {
        while !self.closed && !buffer.isEmpty {
            guard self.isBusy else {
                self.fail("bytes nobody asked for", protocolError: true)
                return
            }
            var outcome = Parse.incomplete
            buffer.withReadableBytes { raw in outcome = self.parse(raw, atEOF: false) }
            switch outcome {
            case .incomplete:
                return
            case .invalid(let reason):
                self.fail("bad http response: \(reason)", protocolError: true)
                return
            case .complete(let consumed, let closeAfter):
                buffer.moveReaderIndex(forwardBy: consumed)
                if closeAfter {
                    connection.handler = nil
                    connection.close()
                    self.connection = nil
                }
            }
        }
    }

    func connectionClosed(_ connection: TCPConnection, error: Int32?) {
        guard connection === self.connection else { return }
        self.connection = nil
        if self.isBusy {
            self.fail(error.map { "http connection closed (errno \($0))" } ?? "http eof", protocolError: false)
        }
    }

    // MARK: Parsing

    private enum Parse {
        case incomplete
        case invalid(String)
        /// A response was delivered; `consumed` bytes of input belonged to it.
        case complete(consumed: Int, closeAfter: Bool)
    }

    /// Parses one response at the front of `raw` and delivers it.
    private func parse(_ raw: UnsafeRawBufferPointer, atEOF: Bool) -> Parse {
        guard let headEnd = Self.find(raw, "\r\n\r\n") else {
            return raw.count > 65_536 ? .invalid("head too large") : .incomplete
        }
        let bodyStart = headEnd + 4
        guard raw.count >= 12, Self.hasPrefix(raw, "HTTP/1.") else { return .invalid("bad status line") }
        var status = 0
        for index in 9..<12 {
            let digit = raw[index] &- 0x30
            guard digit < 10 else { return .invalid("bad status") }
            status = status * 10 + Int(digit)
        }
        var contentLength = -1
        var isChunked = false
        var closeAfter = raw[7] == UInt8(ascii: "0")
        // Header lines: only the three fields framing depends on.
        var lineStart = (Self.find(UnsafeRawBufferPointer(rebasing: raw[0..<bodyStart]), "\r\n") ?? headEnd) + 2
        while lineStart < headEnd {
            let lineEnd = Self.find(UnsafeRawBufferPointer(rebasing: raw[lineStart..<bodyStart]), "\r\n").map { lineStart + $0 } ?? headEnd
            let line = UnsafeRawBufferPointer(rebasing: raw[lineStart..<lineEnd])
            if let value = Self.value(of: "content-length", in: line) {
                var length = 0
                for byte in value where byte != 0x20 {
                    let digit = byte &- 0x30
                    guard digit < 10 else { return .invalid("bad Content-Length") }
                    length = length * 10 + Int(digit)
                }
                contentLength = length
            } else if let value = Self.value(of: "transfer-encoding", in: line) {
                isChunked = Self.containsCaseInsensitive(value, "chunked")
            } else if let value = Self.value(of: "connection", in: line) {
                if Self.containsCaseInsensitive(value, "close") { closeAfter = true }
                if Self.containsCaseInsensitive(value, "keep-alive") { closeAfter = false }
            }
            lineStart = lineEnd + 2
        }
        if isChunked {
            self.chunked.removeAll(keepingCapacity: true)
            var position = bodyStart
            while true {
                guard let sizeEnd = Self.find(UnsafeRawBufferPointer(rebasing: raw[position...]), "\r\n") else { return .incomplete }
                var size = 0
                for byte in raw[position..<(position + sizeEnd)] {
                    guard let digit = Self.hexDigit(byte) else { break }
                    size = size * 16 + digit
                }
                position += sizeEnd + 2
                if size == 0 {
                    guard let trailerEnd = Self.find(UnsafeRawBufferPointer(rebasing: raw[position...]), "\r\n") else { return .incomplete }
                    position += trailerEnd + 2
                    break
                }
                guard raw.count >= position + size + 2 else { return .incomplete }
                self.chunked.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[position..<(position + size)]))
                position += size + 2
            }
            self.isBusy = false
            self.chunked.withUnsafeBytes { self.onResponse(status, $0) }
            return .complete(consumed: position, closeAfter: closeAfter)
        }
        if contentLength < 0 {
            guard status == 204 || status == 304 else { return .invalid("no Content-Length") }
            contentLength = 0
        }
        guard raw.count >= bodyStart + contentLength else { return .incomplete }
        self.isBusy = false
        self.onResponse(status, UnsafeRawBufferPointer(rebasing: raw[bodyStart..<(bodyStart + contentLength)]))
        return .complete(consumed: bodyStart + contentLength, closeAfter: closeAfter)
    }

    /// The value after `name:` when `line` is that header (name compared without case), else nil.
    private static func value(of name: StaticString, in line: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        let count = name.utf8CodeUnitCount
        guard line.count > count, line[count] == UInt8(ascii: ":") else { return nil }
        let bytes = name.utf8Start
        for index in 0..<count where line[index] | 0x20 != bytes[index] { return nil }
        return UnsafeRawBufferPointer(rebasing: line[(count + 1)...])
    }

    private static func containsCaseInsensitive(_ value: UnsafeRawBufferPointer, _ token: StaticString) -> Bool {
        let count = token.utf8CodeUnitCount
        guard value.count >= count else { return false }
        let bytes = token.utf8Start
        outer: for start in 0...(value.count - count) {
            for index in 0..<count where value[start + index] | 0x20 != bytes[index] { continue outer }
            return true
        }
        return false
    }

    private static func hexDigit(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: return Int(byte - 0x30)
        case 0x41...0x46: return Int(byte - 0x41 + 10)
        case 0x61...0x66: return Int(byte - 0x61 + 10)
        default: return nil
        }
    }

    private static func hasPrefix(_ raw: UnsafeRawBufferPointer, _ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        return raw.count >= count && memcmp(raw.baseAddress!, prefix.utf8Start, count) == 0
    }

    /// The offset of `needle` in `raw`, or nil (`memmem` is a GNU extension Glibc does not export).
    private static func find(_ raw: UnsafeRawBufferPointer, _ needle: StaticString) -> Int? {
        let count = needle.utf8CodeUnitCount
        guard raw.count >= count, let base = raw.baseAddress else { return nil }
        let first = Int32(needle.utf8Start[0])
        var offset = 0
        while offset <= raw.count - count {
            guard let hit = memchr(base + offset, first, raw.count - count + 1 - offset) else { return nil }
            let position = base.distance(to: UnsafeRawPointer(hit))
            if memcmp(hit, needle.utf8Start, count) == 0 { return position }
            offset = position + 1
        }
        return nil
    }
}
