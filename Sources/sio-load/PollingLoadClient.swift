import EngineIO
import SocketIO

/// A client on the HTTP long-polling transport, shaped like `sioload`'s: one keep-alive connection that
/// always has a GET waiting for the server's packets, and one for POSTs; packets sent while a POST is in
/// flight wait and go together in the next one (Engine.IO v4 payload: packets joined by U+001E). The
/// handshake's `open` packet is read with `EnginePayloadCodec` and our JSON parser.
final class PollingLoadClient: LoadClient, @unchecked Sendable {
    // Invariant for @unchecked Sendable: as for `LoadClient`, loop thread only.

    private var get: PollingHTTPChannel?
    private var post: PollingHTTPChannel?
    /// Packets waiting for the next POST, already in payload form.
    @exclusivity(unchecked) private var queued: [UInt8] = []
    private var sid: String?
    /// The whole GET request, and the POST head up to its `Content-Length` value.
    private var pollRequest: [UInt8] = []
    private var postHead: [UInt8] = []

    override func start() {
        self.state = .connecting
        let timeout = Int(self.options.connectTimeout * 1000)
        let get = PollingHTTPChannel(loop: self.loop, host: self.options.host, port: self.options.port(forClient: self.index),
                                     connectTimeoutMillis: timeout)
        let post = PollingHTTPChannel(loop: self.loop, host: self.options.host, port: self.options.port(forClient: self.index),
                                      connectTimeoutMillis: timeout)
        get.onResponse = { [unowned self] status, body in self.polled(status: status, body) }
        post.onResponse = { [unowned self] status, _ in self.posted(status: status) }
        get.onFailure = { [unowned self] reason, protocolError in self.fail(reason, protocolError: protocolError) }
        post.onFailure = get.onFailure
        self.get = get
        self.post = post
        self.pollRequest = self.requestHead(method: "GET", sid: nil) + Array("\r\n".utf8)
        self.poll()
    }

    override func send(length: Int, _ write: (inout [UInt8]) -> Void) {
        guard self.state != .dead else { return }
        if !self.queued.isEmpty { self.queued.append(EnginePayloadCodec.recordSeparator) }
        write(&self.queued)
        if self.sid != nil, let post = self.post, !post.isBusy { self.flushPost() }
    }

    override func closeTransport() {
        self.get?.close()
        self.post?.close()
    }

    // MARK: Requests

    private func requestHead(method: String, sid: String?) -> [UInt8] {
        let target = "\(self.options.path)?EIO=4&transport=polling" + (sid.map { "&sid=\($0)" } ?? "")
        return Array("\(method) \(target) HTTP/1.1\r\nHost: \(self.options.host):\(self.options.port(forClient: self.index))\r\n".utf8)
    }

    private func poll() {
        let request = self.pollRequest
        self.get?.request { $0.append(contentsOf: request) }
    }

    private func flushPost() {
        guard !self.queued.isEmpty, self.state != .dead, let post = self.post else { return }
        let head = self.postHead
        post.request { out in
            out.append(contentsOf: head)
            LoadWire.appendDecimal(UInt64(self.queued.count), to: &out)
            out.append(contentsOf: "\r\n\r\n".utf8)
            out.append(contentsOf: self.queued)
        }
        self.queued.removeAll(keepingCapacity: true)
    }

    // MARK: Responses

    private func posted(status: Int) {
        guard status == 200 else {
            self.fail("http status \(status)", protocolError: true)
            return
        }
        self.flushPost()
    }

    private func polled(status: Int, _ body: UnsafeRawBufferPointer) {
        guard status == 200 else {
            self.fail("http status \(status)", protocolError: true)
            return
        }
        if self.sid == nil {
            self.opened(body)
        } else {
            // The payload's packets, split on the record separator without copying.
            var start = 0
            while start <= body.count && self.state != .dead {
                let end = body[start...].firstIndex(of: EnginePayloadCodec.recordSeparator) ?? body.count
                if end > start { self.receive(UnsafeRawBufferPointer(rebasing: body[start..<end])) }
                start = end + 1
            }
        }
        if self.state != .dead, let get = self.get, !get.isBusy { self.poll() }
    }

    /// The handshake: the first GET answers with the `open` packet, whose JSON carries the session id.
    private func opened(_ body: UnsafeRawBufferPointer) {
        guard let packets = try? EnginePayloadCodec.decode(Array(body)), let open = packets.first, open.type == .open,
              let json = try? JSONParser.parse(open.data), let sid = json["sid"]?.stringValue, !sid.isEmpty else {
            self.fail("bad polling handshake", protocolError: true)
            return
        }
        self.sid = sid
        self.pollRequest = self.requestHead(method: "GET", sid: sid) + Array("\r\n".utf8)
        self.postHead = self.requestHead(method: "POST", sid: sid)
            + Array("Content-Type: text/plain;charset=UTF-8\r\nContent-Length: ".utf8)
        self.joinNamespace()
    }
}
