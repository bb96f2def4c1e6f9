import Foundation

/// A parsed HTTP response.
struct TestHTTPResponse {
    var status: Int
    var reason: String
    /// Header fields in the order received, names as sent.
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    /// The body decoded as UTF-8.
    var text: String { String(decoding: self.body, as: UTF8.self) }

    /// The first value of the header `name` (case-insensitive).
    func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return self.headers.first { $0.name.lowercased() == lower }?.value
    }

    /// The body parsed as a JSON object, or nil.
    var jsonObject: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(self.body))) as? [String: Any]
    }
}

/// A minimal blocking HTTP/1.1 client on one keep-alive connection.
///
/// Sending and reading are separate steps so a test can have several requests in flight on different
/// connections (concurrent long-polls) without threads: `send` on each, then `readResponse` on each.
/// Every read has a deadline (`SO_RCVTIMEO`), so a request the server never answers fails the test with
/// `TestClientError.timedOut` instead of hanging.
///
///     let client = try TestHTTPClient(port: port)
///     try client.send(method: "GET", target: "/engine.io/?EIO=4&transport=polling")
///     let response = try client.readResponse()
///
/// or in one call: `try TestHTTPClient.request(port: port, method: "GET", target: "/...")`.
final class TestHTTPClient {
    let socket: TestSocket
    let port: Int
    /// Default seconds `readResponse` waits.
    var timeout: TimeInterval
    private var buffer: [UInt8] = []

    init(port: Int, timeout: TimeInterval = 5) throws {
        self.port = port
        self.timeout = timeout
        self.socket = try TestSocket(port: port, timeout: timeout)
    }

    /// Writes one request. A body gets a `Content-Length`; `headers` are added after `Host`.
    func send(method: String, target: String, body: [UInt8] = [], headers: [(String, String)] = []) throws {
        try self.socket.send(Self.encodeRequest(method: method, target: target, port: self.port, body: body, headers: headers))
    }

    func send(method: String, target: String, body: String, headers: [(String, String)] = []) throws {
        try self.send(method: method, target: target, body: Array(body.utf8), headers: headers)
    }

    /// The bytes of a request, for tests that want to write them in pieces or pipelined.
    static func encodeRequest(method: String, target: String, port: Int, body: [UInt8] = [], headers: [(String, String)] = []) -> [UInt8] {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" || method == "PUT" {
            head += "Content-Length: \(body.count)\r\n"
        }
        head += "\r\n"
        return Array(head.utf8) + body
    }

    /// Reads the next response: status line, headers, then the body by `Content-Length` (to EOF when the
    /// response has none).
    func readResponse(timeout: TimeInterval? = nil) throws -> TestHTTPResponse {
        let deadline = TestDeadline.after(timeout ?? self.timeout)
        let headEnd = try self.fill(until: { Self.find([13, 10, 13, 10], in: $0).map { $0 + 4 } }, deadline: deadline, what: "response head")
        let headText = String(decoding: self.buffer[..<(headEnd - 4)], as: UTF8.self)
        self.buffer.removeFirst(headEnd)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw TestClientError.protocolViolation("bad status line \(statusLine)")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else {
                throw TestClientError.protocolViolation("bad header line \(line)")
            }
            headers.append((name: String(line[..<colon]),
                            value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        var response = TestHTTPResponse(status: status, reason: parts.count > 2 ? String(parts[2]) : "", headers: headers, body: [])
        if status == 101 || status == 204 || status == 304 || (100..<200).contains(status) {
            return response
        }
        if let lengthText = response.header("Content-Length") {
            guard let length = Int(lengthText) else { throw TestClientError.protocolViolation("bad Content-Length \(lengthText)") }
            _ = try self.fill(until: { $0.count >= length ? length : nil }, deadline: deadline, what: "\(length)-byte body")
            response.body = Array(self.buffer[..<length])
            self.buffer.removeFirst(length)
        } else if response.header("Transfer-Encoding")?.lowercased().contains("chunked") == true {
            throw TestClientError.protocolViolation("chunked responses are not supported by the test client")
        } else {
            // Body delimited by the end of the connection.
            while true {
                switch self.socket.receive(deadline: deadline) {
                case .bytes(let bytes): self.buffer += bytes
                case .closed:
                    response.body = self.buffer
                    self.buffer = []
                    return response
                case .timedOut: throw TestClientError.timedOut("body up to EOF")
                }
            }
        }
        return response
    }

    /// Bytes received after the last response (e.g. frames behind a 101).
    func takeBufferedBytes() -> [UInt8] {
        defer { self.buffer = [] }
        return self.buffer
    }

    /// Whether the server closes the connection within `timeout` (reads and drops anything else).
    func waitForClose(timeout: TimeInterval = 3) -> Bool {
        let deadline = TestDeadline.after(timeout)
        while true {
            switch self.socket.receive(deadline: deadline) {
            case .bytes: continue
            case .closed: return true
            case .timedOut: return false
            }
        }
    }

    /// Reads until `complete` finds what it wants in the buffer; returns its answer.
    private func fill(until complete: ([UInt8]) -> Int?, deadline: Date, what: String) throws -> Int {
        while true {
            if let found = complete(self.buffer) { return found }
            switch self.socket.receive(deadline: deadline) {
            case .bytes(let bytes): self.buffer += bytes
            case .closed: throw TestClientError.connectionClosed(what)
            case .timedOut: throw TestClientError.timedOut(what)
            }
        }
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start }
        }
        return nil
    }

    // MARK: One-shot

    /// Opens a connection, sends one request, reads its response.
    static func request(port: Int, method: String, target: String, body: [UInt8] = [], headers: [(String, String)] = [],
                        timeout: TimeInterval = 5) throws -> TestHTTPResponse {
        let client = try TestHTTPClient(port: port, timeout: timeout)
        try client.send(method: method, target: target, body: body, headers: headers)
        return try client.readResponse()
    }

    static func request(port: Int, method: String, target: String, body: String, headers: [(String, String)] = [],
                        timeout: TimeInterval = 5) throws -> TestHTTPResponse {
        try self.request(port: port, method: method, target: target, body: Array(body.utf8), headers: headers, timeout: timeout)
    }
}
