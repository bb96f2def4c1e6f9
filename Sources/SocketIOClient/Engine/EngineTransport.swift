import EngineIO
import HTTPKit
import Transport

/// What a transport reports to the engine client, on the loop thread.
protocol EngineClientTransportDelegate: AnyObject {
    /// The transport can carry packets (WebSocket: handshake done; polling: first response arrived).
    func transportDidOpen(_ transport: EngineClientTransport)
    /// A packet from the server.
    func transport(_ transport: EngineClientTransport, didReceive packet: EnginePacket)
    /// Everything handed to `send` has left; more may be sent.
    func transportDidDrain(_ transport: EngineClientTransport)
    /// The transport failed (network, HTTP status, protocol); it is closed.
    func transport(_ transport: EngineClientTransport, didFail reason: String)
    /// The server closed the transport cleanly.
    func transportDidClose(_ transport: EngineClientTransport)
}

/// An Engine.IO transport as the engine client drives it; used on its loop's thread only.
protocol EngineClientTransport: AnyObject {
    var kind: EngineTransport { get }
    /// Whether `send` may be called now.
    var isWritable: Bool { get }
    var delegate: EngineClientTransportDelegate? { get set }
    func open()
    func send(_ packets: [EnginePacket])
    /// Client-initiated close: tells the server when the transport is open, then lets go. No callback.
    func close()
    /// Stops polling once the request in flight returns, and calls `completion` when nothing is in
    /// flight any more (used before switching to WebSocket). WebSocket transports complete at once.
    func pause(_ completion: @escaping () -> Void)
    /// Undoes `pause` (the upgrade failed).
    func resume()
    /// Drops the transport without telling the server (it has moved to another transport).
    func discard()
}

/// What every transport of one engine session shares: where to connect, with what, and the session id.
final class EngineSessionContext: @unchecked Sendable {
    // Invariant for @unchecked Sendable: used on `loop`'s thread only.
    let loop: EventLoop
    let endpoint: EngineEndpoint
    let options: EngineClientOptions
    let connector: any ClientStreamConnector
    /// Set from the `open` packet.
    var sid: String?
    /// Milliseconds of the heartbeat window once known (long polls may be held that long).
    var heartbeatWindowMillis = 0
    /// Largest POST body the server accepts.
    var maxPayload = 1_000_000
    /// Cookies the server set (e.g. a load balancer's sticky-session cookie), sent back on every request.
    var cookies: [(name: String, value: String)] = []
    private var requestCounter = 0

    init(loop: EventLoop, endpoint: EngineEndpoint, options: EngineClientOptions, connector: any ClientStreamConnector) {
        self.loop = loop
        self.endpoint = endpoint
        self.options = options
        self.connector = connector
    }

    /// The request target for `transport`: path, `EIO=4`, transport, sid, cache buster, user query.
    func target(for transport: EngineTransport) -> String {
        var items: [(name: String, value: String)] = self.options.query.filter {
            $0.name != "EIO" && $0.name != "transport" && $0.name != "sid" && $0.name != "t"
        }
        items.append((name: "EIO", value: "4"))
        items.append((name: "transport", value: transport.rawValue))
        if let sid = self.sid { items.append((name: "sid", value: sid)) }
        if transport == .polling {
            self.requestCounter += 1
            items.append((name: "t", value: String(self.requestCounter, radix: 36)))
        }
        var path = self.options.path.isEmpty ? "/" : self.options.path
        if !path.hasPrefix("/") { path = "/" + path }
        return path + "?" + QueryEncoding.build(items)
    }

    /// Extra headers plus cookies, for any request of this session.
    var headers: HTTPHeaders {
        var headers = HTTPHeaders()
        for header in self.options.extraHeaders { headers.add(header.name, header.value) }
        if !self.cookies.isEmpty && !headers.contains("Cookie") {
            headers.add("Cookie", self.cookies.map { "\($0.name)=\($0.value)" }.joined(separator: "; "))
        }
        return headers
    }

    /// Remembers the cookies of a response.
    func storeCookies(from response: HTTPClientResponse) {
        for value in response.headers.values("Set-Cookie") {
            guard let pair = value.split(separator: ";", maxSplits: 1).first,
                  let equals = pair.firstIndex(of: "=") else { continue }
            let name = String(pair[..<equals]).trimmingASCIISpaces()
            let cookieValue = String(pair[pair.index(after: equals)...]).trimmingASCIISpaces()
            self.cookies.removeAll { $0.name == name }
            self.cookies.append((name: String(name), value: String(cookieValue)))
        }
    }

    /// Opens an HTTP connection to the endpoint.
    func connect(_ completion: @escaping @Sendable (Result<HTTPClientConnection, HTTPClientError>) -> Void) {
        HTTPClientConnection.connect(
            host: self.endpoint.host, port: self.endpoint.port, hostHeader: self.endpoint.hostHeader,
            connector: self.connector, on: self.loop, timeoutMillis: self.options.connectTimeoutMillis,
            limits: HTTPClientLimits(maxBodySize: self.options.maxMessageSize + 64 * 1024), completion)
    }
}
