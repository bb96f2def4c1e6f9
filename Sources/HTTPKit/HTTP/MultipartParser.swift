/// Streaming `multipart/form-data` parser (RFC 7578 over the RFC 2046 multipart syntax).
///
/// Feed body bytes in chunks of any size; each call returns the events those bytes completed. Part data
/// is passed on as soon as it cannot be the start of a delimiter, so memory stays bounded by the
/// delimiter length plus one part's header section, whatever the part sizes.
public struct MultipartParser: Sendable {
    /// The limits in force.
    public let limits: MultipartLimits

    /// `CRLF--boundary`: every delimiter, including the first, once a CRLF is imagined before the body.
    private let delimiter: [UInt8]
    /// Boyer–Moore–Horspool shift table for `delimiter`.
    private let shift: [Int]
    /// Unprocessed bytes; starts with the imagined CRLF so an opening `--boundary` matches `delimiter`.
    private var pending: [UInt8] = [13, 10]
    private var state: State = .preamble
    private var partHeaders = HTTPHeaders()
    private var partHeaderBytes = 0
    private var partCount = 0
    /// Set by the first error; the stream position is then meaningless, so every later call rethrows it.
    private var failure: MultipartError?

    private enum State: Sendable {
        case preamble, afterDelimiter, headers, body, epilogue
    }

    /// Longest run of transport padding (spaces, tabs) tolerated after a delimiter.
    private static let maxPadding = 256

    /// Creates a parser for `boundary` (1–70 characters per RFC 2046; up to 200 accepted).
    public init(boundary: String, limits: MultipartLimits = MultipartLimits()) throws(MultipartError) {
        let bytes = Array(boundary.utf8)
        guard !bytes.isEmpty, bytes.count <= 200, !bytes.contains(where: { $0 == 13 || $0 == 10 }) else {
            throw .malformed("invalid multipart boundary")
        }
        self.limits = limits
        self.delimiter = [13, 10, UInt8(ascii: "-"), UInt8(ascii: "-")] + bytes
        var shift = [Int](repeating: self.delimiter.count, count: 256)
        for (index, byte) in self.delimiter.dropLast().enumerated() {
            shift[Int(byte)] = self.delimiter.count - 1 - index
        }
        self.shift = shift
    }

    /// Creates a parser from a request's `Content-Type`; 415 when it is not multipart/form-data,
    /// 400 when the boundary is missing.
    public init(contentType: String, limits: MultipartLimits = MultipartLimits()) throws(MultipartError) {
        let parsed = HeaderValue(contentType)
        guard parsed.value.asciiCaseInsensitiveEquals("multipart/form-data") else {
            throw MultipartError(status: 415, reason: "expected multipart/form-data")
        }
        guard let boundary = parsed.parameter("boundary") else { throw .malformed("missing multipart boundary") }
        try self.init(boundary: boundary, limits: limits)
    }

    /// The `boundary` parameter of a `multipart/...` Content-Type, or nil.
    public static func boundary(fromContentType contentType: String) -> String? {
        let parsed = HeaderValue(contentType)
        guard parsed.value.lowercased().hasPrefix("multipart/") else { return nil }
        return parsed.parameter("boundary")
    }

    /// Whether the closing delimiter has been seen.
    public var isComplete: Bool {
        if case .epilogue = self.state { return true }
        return false
    }

    /// Parses `bytes` and returns the events they complete.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(MultipartError) -> [MultipartEvent] {
        if let failure = self.failure { throw failure }
        if case .epilogue = self.state { return [] }  // the epilogue is ignored without buffering it
        self.pending.append(contentsOf: bytes)
        do throws(MultipartError) {
            return try self.process()
        } catch {
            self.failure = error
            self.pending = []
            throw error
        }
    }

    private mutating func process() throws(MultipartError) -> [MultipartEvent] {
        var events: [MultipartEvent] = []
        var position = 0
        defer {
            // Drop what was processed; what stays is short (a possible delimiter start or a partial line).
            if position >= self.pending.count {
                self.pending.removeAll(keepingCapacity: true)
            } else if position > 0 {
                self.pending.removeSubrange(0..<position)
            }
        }
        loop: while true {
            switch self.state {
            case .preamble:
                if let index = self.findDelimiter(from: position) {
                    position = index + self.delimiter.count
                    self.state = .afterDelimiter
                } else {
                    // The preamble is discarded, except a tail that may begin the first delimiter.
                    position = max(position, self.pending.count - (self.delimiter.count - 1))
                    break loop
                }

            case .afterDelimiter:
                var index = position
                let end = self.pending.count
                guard end - index >= 2 else { break loop }
                if self.pending[index] == UInt8(ascii: "-") && self.pending[index + 1] == UInt8(ascii: "-") {
                    self.state = .epilogue
                    position = end
                    break loop
                }
                while index < end && (self.pending[index] == 0x20 || self.pending[index] == 0x09) { index += 1 }
                if index - position > Self.maxPadding { throw .malformed("malformed multipart delimiter line") }
                guard index < end else { break loop }
                if self.pending[index] == 10 {
                    position = index + 1
                } else if self.pending[index] == 13 {
                    guard index + 1 < end else { break loop }
                    guard self.pending[index + 1] == 10 else { throw .malformed("malformed multipart delimiter line") }
                    position = index + 2
                } else {
                    throw .malformed("malformed multipart delimiter line")
                }
                self.state = .headers
                self.partHeaders = HTTPHeaders()
                self.partHeaderBytes = 0

            case .headers:
                guard let lf = self.pending[position...].firstIndex(of: 10) else {
                    if self.partHeaderBytes + (self.pending.count - position) > self.limits.maxPartHeaderBytes {
                        throw .tooLarge("multipart part headers too large")
                    }
                    break loop
                }
                self.partHeaderBytes += lf + 1 - position
                if self.partHeaderBytes > self.limits.maxPartHeaderBytes {
                    throw .tooLarge("multipart part headers too large")
                }
                var lineEnd = lf
                if lineEnd > position && self.pending[lineEnd - 1] == 13 { lineEnd -= 1 }
                let line = self.pending[position..<lineEnd]
                position = lf + 1
                if line.isEmpty {
                    self.partCount += 1
                    if self.partCount > self.limits.maxParts { throw .tooLarge("too many multipart parts") }
                    events.append(.partBegin(MultipartPartHead(headers: self.partHeaders)))
                    self.state = .body
                } else {
                    guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                        throw .malformed("malformed multipart part header")
                    }
                    let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self).trimmingASCIISpaces()
                    let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingASCIISpaces()
                    guard !name.isEmpty else { throw .malformed("malformed multipart part header") }
                    self.partHeaders.add(String(name), String(value))
                }

            case .body:
                if let index = self.findDelimiter(from: position) {
                    if index > position { events.append(.data(Array(self.pending[position..<index]))) }
                    events.append(.partEnd)
                    position = index + self.delimiter.count
                    self.state = .afterDelimiter
                } else {
                    let safeEnd = self.pending.count - self.delimiterPrefixAtEnd(from: position)
                    if safeEnd > position {
                        events.append(.data(Array(self.pending[position..<safeEnd])))
                        position = safeEnd
                    }
                    break loop
                }

            case .epilogue:
                position = self.pending.count
                break loop
            }
        }
        return events
    }

    /// Checks that the body ended with the closing delimiter; call after the last `feed`.
    public func finish() throws(MultipartError) {
        if let failure = self.failure { throw failure }
        guard self.isComplete else { throw .malformed("multipart body ended before the closing boundary") }
    }

    /// Index of the first full delimiter at or after `from` (Horspool search).
    private func findDelimiter(from: Int) -> Int? {
        let pattern = self.delimiter, shift = self.shift
        return self.pending.withUnsafeBufferPointer { text -> Int? in
            let m = pattern.count, n = text.count
            var i = from
            while i + m <= n {
                var j = m - 1
                while text[i + j] == pattern[j] {
                    if j == 0 { return i }
                    j -= 1
                }
                i += shift[Int(text[i + m - 1])]
            }
            return nil
        }
    }

    /// Length of the longest tail of `pending[from...]` that is a proper prefix of the delimiter: those
    /// bytes must wait for the next chunk before they can be called data.
    private func delimiterPrefixAtEnd(from: Int) -> Int {
        let n = self.pending.count
        var length = min(self.delimiter.count - 1, n - from)
        while length > 0 {
            let start = n - length
            if self.pending[start] == 13 && self.pending[start..<n].elementsEqual(self.delimiter[0..<length]) {
                return length
            }
            length -= 1
        }
        return 0
    }
}
