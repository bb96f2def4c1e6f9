#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import Transport

/// Incremental HTTP/1.0 and HTTP/1.1 request parser (RFC 9112).
///
/// Feed it the connection's input buffer each time bytes arrive and call `next(from:)` until it returns nil
/// ("need more bytes"). It consumes only the bytes it has turned into events, so whatever follows the end of
/// a request (a pipelined request, or WebSocket frames after an Upgrade) stays in the buffer. Partial lines
/// are not re-scanned from the start on every call, so byte-at-a-time input stays linear.
///
/// After an error every later call throws the same error: the connection should answer `error.status`
/// and close, because the stream position is no longer trustworthy.
public struct HTTPRequestParser: Sendable {
    /// The limits this parser enforces.
    public let limits: HTTPLimits

    private var state: State = .requestLine
    /// Bytes of the current, unterminated line already searched for LF.
    private var scanned = 0
    private var head = PartialHead()
    /// Decoded body bytes of the current chunked request, for the `maxBodySize` check.
    private var chunkedBodyBytes = 0
    private var trailerBytes = 0
    private var trailerCount = 0
    /// The header storage of a finished request, handed back by the server for the next one (two
    /// allocations fewer per keep-alive request).
    private var spareHeaders: HTTPHeaders?

    private enum State: Sendable {
        case requestLine
        case headers
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case end
        case failed(HTTPParseError)
    }

    /// The head being assembled, kept as plain values until the blank line completes it.
    private struct PartialHead: Sendable {
        var method = ""
        var target = ""
        var major = 1
        var minor = 1
        var headers = HTTPHeaders()
        var headerBytes = 0
    }

    /// Creates a parser waiting for the first request line.
    public init(limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits
    }

    /// Takes the headers of a request that is done with (moved out of `headers`) to parse the next
    /// request's into: kept when their storage is small, emptied in place when nothing else holds it.
    public mutating func recycle(_ headers: inout HTTPHeaders) {
        guard self.spareHeaders == nil, headers.capacity.bytes <= Self.spareBytesLimit,
              headers.capacity.fields <= Self.spareFieldsLimit else { return }
        var spare = HTTPHeaders()
        swap(&spare, &headers)
        spare.removeAllKeepingCapacity()
        self.spareHeaders = spare
    }

    /// Header storage larger than this is not kept between requests (an idle connection holds it).
    static let spareBytesLimit = 1024
    static let spareFieldsLimit = 24

    /// True between the first byte of a request line and its `.end`; an idle keep-alive connection is false.
    public var isMidMessage: Bool {
        if case .requestLine = self.state { return self.scanned > 0 }
        return true
    }

    /// Parses the next event out of `buffer`, consuming exactly the bytes it covers.
    ///
    /// - Returns: the next event, or nil when more bytes are needed.
    /// - Throws: `HTTPParseError` with the status to answer; the parser then stays failed.
    public mutating func next(from buffer: inout ByteBuffer) throws(HTTPParseError) -> HTTPParseEvent? {
        if case .failed(let error) = self.state { throw error }
        do throws(HTTPParseError) {
            return try self.step(&buffer)
        } catch {
            self.state = .failed(error)
            throw error
        }
    }

    // MARK: - State machine

    private mutating func step(_ buffer: inout ByteBuffer) throws(HTTPParseError) -> HTTPParseEvent? {
        while true {
            switch self.state {
            case .requestLine:
                // Fail fast on input that cannot start a request line (a TLS handshake sent to the plain
                // port, binary junk) instead of buffering up to the line limit first.
                if let first = buffer.peek(at: 0), !HTTPSyntax.isTokenChar(first),
                   first != UInt8(ascii: "\r"), first != UInt8(ascii: "\n") {
                    throw .badRequest("malformed request line")
                }
                guard let lf = self.scanLine(buffer) else {
                    // +1 leaves room for the CR that precedes LF.
                    if self.scanned > self.limits.maxRequestLineLength + 1 { throw .uriTooLong() }
                    return nil
                }
                let limits = self.limits
                let result = buffer.withReadableBytes { raw in
                    Self.parseRequestLine(UnsafeRawBufferPointer(rebasing: raw[0..<lf]), limits: limits)
                }
                self.consumeLine(&buffer, lf)
                switch result {
                case .blank:
                    // RFC 9112 §2.2: ignore empty lines received before the request line.
                    continue
                case .failure(let error):
                    throw error
                case .line(let method, let target, let major, let minor):
                    self.head = PartialHead(method: method, target: target, major: major, minor: minor,
                                            headers: self.spareHeaders ?? HTTPHeaders())
                    self.spareHeaders = nil
                    self.head.headers.reserveCapacity(8)
                    self.state = .headers
                }

            case .headers:
                guard let lf = self.scanLine(buffer) else {
                    if self.head.headerBytes + self.scanned > self.limits.maxHeaderBytes {
                        throw .headersTooLarge("header section too large")
                    }
                    return nil
                }
                self.head.headerBytes += lf + 1
                if self.head.headerBytes > self.limits.maxHeaderBytes {
                    throw .headersTooLarge("header section too large")
                }
                // Stored as bytes straight from the read buffer: no String per name or value.
                let maxCount = self.limits.maxHeaderCount
                let result = buffer.withReadableBytes { raw in
                    let line = UnsafeRawBufferPointer(rebasing: raw[0..<lf])
                    let result = Self.parseField(line)
                    if case .field(let name, let value) = result {
                        if self.head.headers.count >= maxCount {
                            return FieldResult.failure(.headersTooLarge("too many header fields"))
                        }
                        self.head.headers.add(line: line.assumingMemoryBound(to: UInt8.self), name: name, value: value)
                    }
                    return result
                }
                self.consumeLine(&buffer, lf)
                switch result {
                case .failure(let error):
                    throw error
                case .field:
                    break
                case .blank:
                    let complete = HTTPRequestHead(
                        method: self.head.method, target: self.head.target,
                        versionMajor: self.head.major, versionMinor: self.head.minor, headers: self.head.headers)
                    self.head = PartialHead()
                    self.state = try Self.bodyFraming(for: complete, limits: self.limits)
                    self.chunkedBodyBytes = 0
                    return .head(complete)
                }

            case .fixedBody(let remaining):
                let count = min(remaining, buffer.readableBytes)
                guard count > 0, let bytes = buffer.readBytes(count) else { return nil }
                self.state = remaining == count ? .end : .fixedBody(remaining: remaining - count)
                return .body(bytes)

            case .chunkSize:
                guard let lf = self.scanLine(buffer) else {
                    if self.scanned > self.limits.maxChunkLineLength + 1 { throw .badRequest("chunk size line too long") }
                    return nil
                }
                if lf > self.limits.maxChunkLineLength + 1 { throw .badRequest("chunk size line too long") }
                let size = buffer.withReadableBytes { raw in
                    Self.parseChunkSize(UnsafeRawBufferPointer(rebasing: raw[0..<lf]))
                }
                self.consumeLine(&buffer, lf)
                guard let size else { throw .badRequest("invalid chunk size") }
                if size == 0 {
                    self.trailerBytes = 0
                    self.trailerCount = 0
                    self.state = .trailers
                } else {
                    // `size` may be Int.max for absurd sizes, so compare without adding.
                    if size > self.limits.maxBodySize - self.chunkedBodyBytes { throw .bodyTooLarge() }
                    self.chunkedBodyBytes += size
                    self.state = .chunkData(remaining: size)
                }

            case .chunkData(let remaining):
                let count = min(remaining, buffer.readableBytes)
                guard count > 0, let bytes = buffer.readBytes(count) else { return nil }
                self.state = remaining == count ? .chunkDataEnd : .chunkData(remaining: remaining - count)
                return .body(bytes)

            case .chunkDataEnd:
                // The CRLF after chunk data (a bare LF is tolerated like everywhere else).
                guard let first = buffer.peek(at: 0) else { return nil }
                if first == UInt8(ascii: "\n") {
                    buffer.moveReaderIndex(forwardBy: 1)
                } else if first == UInt8(ascii: "\r") {
                    guard let second = buffer.peek(at: 1) else { return nil }
                    guard second == UInt8(ascii: "\n") else { throw .badRequest("missing CRLF after chunk data") }
                    buffer.moveReaderIndex(forwardBy: 2)
                } else {
                    throw .badRequest("missing CRLF after chunk data")
                }
                self.state = .chunkSize

            case .trailers:
                guard let lf = self.scanLine(buffer) else {
                    if self.trailerBytes + self.scanned > self.limits.maxHeaderBytes {
                        throw .headersTooLarge("trailer section too large")
                    }
                    return nil
                }
                self.trailerBytes += lf + 1
                if self.trailerBytes > self.limits.maxHeaderBytes { throw .headersTooLarge("trailer section too large") }
                let result = buffer.withReadableBytes { raw in
                    Self.parseField(UnsafeRawBufferPointer(rebasing: raw[0..<lf]))
                }
                self.consumeLine(&buffer, lf)
                switch result {
                case .failure(let error):
                    throw error
                case .field:
                    // Trailers are validated and bounded but dropped: nothing in this stack uses them.
                    self.trailerCount += 1
                    if self.trailerCount > self.limits.maxHeaderCount { throw .headersTooLarge("too many trailer fields") }
                case .blank:
                    self.state = .end
                }

            case .end:
                self.state = .requestLine
                self.scanned = 0
                return .end

            case .failed(let error):
                throw error
            }
        }
    }

    // MARK: - Lines

    /// Offset of the next LF from the reader index, or nil (remembering how far it looked).
    private mutating func scanLine(_ buffer: ByteBuffer) -> Int? {
        let from = self.scanned
        let found: Int? = buffer.withReadableBytes { raw in
            guard from < raw.count, let base = raw.baseAddress else { return nil }
            guard let hit = memchr(base + from, 0x0A, raw.count - from) else { return nil }
            return base.distance(to: UnsafeRawPointer(hit))
        }
        if found == nil { self.scanned = buffer.readableBytes }
        return found
    }

    private mutating func consumeLine(_ buffer: inout ByteBuffer, _ lf: Int) {
        buffer.moveReaderIndex(forwardBy: lf + 1)
        self.scanned = 0
    }

    /// Length of a line once a trailing CR (before the LF that was cut off) is removed.
    @inline(__always)
    private static func contentLength(_ line: UnsafeRawBufferPointer) -> Int {
        line.count > 0 && line[line.count - 1] == UInt8(ascii: "\r") ? line.count - 1 : line.count
    }

    // MARK: - Request line

    private enum RequestLineResult {
        case blank
        case line(method: String, target: String, major: Int, minor: Int)
        case failure(HTTPParseError)
    }

    private static func parseRequestLine(_ line: UnsafeRawBufferPointer, limits: HTTPLimits) -> RequestLineResult {
        let end = contentLength(line)
        if end == 0 { return .blank }
        if end > limits.maxRequestLineLength { return .failure(.uriTooLong()) }
        let bad = RequestLineResult.failure(.badRequest("malformed request line"))

        var i = 0
        while i < end && HTTPSyntax.isTokenChar(line[i]) { i += 1 }
        guard i > 0, i < end, line[i] == UInt8(ascii: " ") else { return bad }
        let methodEnd = i
        i += 1
        let targetStart = i
        i = Self.skipTargetWords(line, from: i, to: end)
        while i < end && line[i] != UInt8(ascii: " ") {
            guard HTTPSyntax.isTargetChar(line[i]) else {
                return .failure(.badRequest("invalid character in request target"))
            }
            i += 1
        }
        guard i > targetStart, i < end else { return bad }
        let targetEnd = i
        i += 1

        let version = UnsafeRawBufferPointer(rebasing: line[i..<end])
        guard let (major, minor) = parseVersion(version) else {
            return looksLikeOtherVersion(version) ? .failure(.versionNotSupported()) : bad
        }
        guard major == 1 && (minor == 0 || minor == 1) else { return .failure(.versionNotSupported()) }

        let method = Self.method(UnsafeRawBufferPointer(rebasing: line[0..<methodEnd]))
        let target = String(decoding: UnsafeRawBufferPointer(rebasing: line[targetStart..<targetEnd]), as: UTF8.self)
        return .line(method: method, target: target, major: major, minor: minor)
    }

    /// The method as a `String`: a literal for the common ones (no UTF-8 validation or copy per request).
    private static func method(_ bytes: UnsafeRawBufferPointer) -> String {
        func spells(_ name: StaticString) -> Bool {
            guard bytes.count == name.utf8CodeUnitCount, let base = bytes.baseAddress else { return false }
            return memcmp(base, UnsafeRawPointer(name.utf8Start), bytes.count) == 0
        }
        if spells("GET") { return "GET" }
        if spells("POST") { return "POST" }
        if spells("HEAD") { return "HEAD" }
        if spells("OPTIONS") { return "OPTIONS" }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The first offset from `from` whose eight-byte word is not all target characters (visible ASCII):
    /// the byte loop after it finds the space or the bad byte. A target is most of a request line.
    @inline(__always)
    private static func skipTargetWords(_ line: UnsafeRawBufferPointer, from: Int, to end: Int) -> Int {
        guard let base = line.baseAddress else { return from }
        var i = from
        while end - i >= 8 {
            let word = (base + i).loadUnaligned(as: UInt64.self)
            if ByteWord.below(word, 0x21) | ByteWord.nonASCII(word) | ByteWord.equal(word, 0x7F) != 0 { break }
            i += 8
        }
        return i
    }

    /// `skipTargetWords` for field values: words of visible ASCII and spaces (tabs and obs-text go to the
    /// byte loop).
    @inline(__always)
    private static func skipFieldValueWords(_ line: UnsafeRawBufferPointer, from: Int, to end: Int) -> Int {
        guard let base = line.baseAddress else { return from }
        var i = from
        while end - i >= 8 {
            let word = (base + i).loadUnaligned(as: UInt64.self)
            if ByteWord.below(word, 0x20) | ByteWord.nonASCII(word) | ByteWord.equal(word, 0x7F) != 0 { break }
            i += 8
        }
        return i
    }

    private static let httpSlash: [UInt8] = Array("HTTP/".utf8)

    /// `HTTP/` DIGIT `.` DIGIT, exactly as RFC 9112 writes it.
    private static func parseVersion(_ v: UnsafeRawBufferPointer) -> (Int, Int)? {
        guard v.count == 8, v[0] == 0x48, v[1] == 0x54, v[2] == 0x54, v[3] == 0x50, v[4] == 0x2F,  // HTTP/
              v[6] == UInt8(ascii: ".") else { return nil }
        let major = Int(v[5]) - 48, minor = Int(v[7]) - 48
        guard (0...9).contains(major), (0...9).contains(minor) else { return nil }
        return (major, minor)
    }

    /// `HTTP/2`, `HTTP/10.0` and the like: a version we recognise as such but do not speak → 505, not 400.
    private static func looksLikeOtherVersion(_ v: UnsafeRawBufferPointer) -> Bool {
        guard v.count > 5, v.count <= 16, v.starts(with: httpSlash) else { return false }
        let rest = v[5...]
        guard let first = rest.first, (48...57).contains(first) else { return false }
        return rest.allSatisfy { (48...57).contains($0) || $0 == UInt8(ascii: ".") }
    }

    // MARK: - Header fields

    private enum FieldResult {
        case blank
        /// Where the name and the value are in the line.
        case field(name: Range<Int>, value: Range<Int>)
        case failure(HTTPParseError)
    }

    private static func parseField(_ line: UnsafeRawBufferPointer) -> FieldResult {
        let end = contentLength(line)
        if end == 0 { return .blank }
        let first = line[0]
        if first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
            // obs-fold: RFC 9112 §5.2 lets a server reject it with 400.
            return .failure(.badRequest("obsolete line folding in header"))
        }
        var i = 0
        while i < end && HTTPSyntax.isTokenChar(line[i]) { i += 1 }
        // No whitespace is allowed between the name and the colon (RFC 9112 §5.1).
        guard i > 0, i < end, line[i] == UInt8(ascii: ":") else {
            return .failure(.badRequest("malformed header field"))
        }
        let nameEnd = i
        i += 1
        while i < end && (line[i] == UInt8(ascii: " ") || line[i] == UInt8(ascii: "\t")) { i += 1 }
        var valueEnd = end
        while valueEnd > i && (line[valueEnd - 1] == UInt8(ascii: " ") || line[valueEnd - 1] == UInt8(ascii: "\t")) {
            valueEnd -= 1
        }
        var j = Self.skipFieldValueWords(line, from: i, to: valueEnd)
        while j < valueEnd {
            guard HTTPSyntax.isFieldValueChar(line[j]) else {
                return .failure(.badRequest("invalid character in header value"))
            }
            j += 1
        }
        return .field(name: 0..<nameEnd, value: i..<valueEnd)
    }

    // MARK: - Body framing

    /// Chooses how the body is delimited (RFC 9112 §6.3), rejecting ambiguous framing that enables smuggling.
    private static func bodyFraming(for head: HTTPRequestHead, limits: HTTPLimits) throws(HTTPParseError) -> State {
        // One pass over the fields for the three that matter here, by their recognised names.
        var hosts = 0
        var transferEncodings: [String] = []
        // Content-Length values are read in place, without strings.
        var length: Int?
        var sawLength = false, lengthValid = true
        head.headers.forEachField { _, value, name in
            switch name {
            case .host: hosts += 1
            case .contentLength:
                sawLength = true
                guard lengthValid else { return }
                length = Self.contentLength(value, agreeingWith: length)
                lengthValid = length != nil
            case .transferEncoding: transferEncodings.append(String(decoding: value, as: UTF8.self))
            default: break
            }
        }
        if hosts > 1 { throw .badRequest("multiple Host headers") }

        if !transferEncodings.isEmpty {
            if sawLength { throw .badRequest("both Transfer-Encoding and Content-Length") }
            var codings: [Substring] = []
            for value in transferEncodings {
                for item in value.split(separator: ",") {
                    let coding = item.trimmingASCIISpaces()
                    if !coding.isEmpty { codings.append(coding) }
                }
            }
            guard !codings.isEmpty else { throw .badRequest("empty Transfer-Encoding") }
            for coding in codings where !coding.asciiCaseInsensitiveEquals("chunked") {
                throw .notImplemented("unsupported transfer coding")
            }
            // Only "chunked" is left, so more than one item means chunked was applied twice.
            guard codings.count == 1 else { throw .badRequest("chunked applied more than once") }
            return .chunkSize
        }

        guard sawLength else { return .end }
        guard lengthValid, let bodyLength = length else { throw .badRequest("invalid or conflicting Content-Length") }
        if bodyLength > limits.maxBodySize { throw .bodyTooLarge() }
        return bodyLength == 0 ? .end : .fixedBody(remaining: bodyLength)
    }

    /// One Content-Length field value: a list such as `5, 5` is allowed when every member is the same and
    /// agrees with `previous` (RFC 9110 §8.6). Returns nil when a member is not 1*DIGIT or members differ.
    /// Saturates at Int.max so huge lengths become 413 rather than 400.
    private static func contentLength(_ value: UnsafeBufferPointer<UInt8>, agreeingWith previous: Int?) -> Int? {
        var agreed = previous
        var index = 0
        while true {
            while index < value.count && (value[index] == 0x20 || value[index] == 0x09) { index += 1 }
            var number = 0, digits = 0
            while index < value.count, value[index] >= 48 && value[index] <= 57 {
                let (times, o1) = number.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times.addingReportingOverflow(Int(value[index] - 48))
                number = (o1 || o2) ? Int.max : sum
                digits += 1
                index += 1
            }
            while index < value.count && (value[index] == 0x20 || value[index] == 0x09) { index += 1 }
            guard digits > 0 else { return nil }
            if let agreed, agreed != number { return nil }
            agreed = number
            if index == value.count { return agreed }
            guard value[index] == UInt8(ascii: ",") else { return nil }
            index += 1
        }
    }

    /// `chunk-size [ chunk-ext ]`: hex digits, then optional `;name[=value]` extensions that are ignored.
    /// Returns nil for a malformed line; saturates at Int.max so oversize chunks become 413.
    private static func parseChunkSize(_ line: UnsafeRawBufferPointer) -> Int? {
        let end = contentLength(line)
        var i = 0
        var size = 0
        while i < end, let digit = HTTPSyntax.hexValue(line[i]) {
            size = size > (Int.max >> 4) ? Int.max : (size << 4) | digit
            i += 1
        }
        guard i > 0 else { return nil }
        // BWS before the extension list.
        while i < end && (line[i] == UInt8(ascii: " ") || line[i] == UInt8(ascii: "\t")) { i += 1 }
        guard i == end || line[i] == UInt8(ascii: ";") else { return nil }
        while i < end {
            guard HTTPSyntax.isFieldValueChar(line[i]) else { return nil }
            i += 1
        }
        return size
    }
}
