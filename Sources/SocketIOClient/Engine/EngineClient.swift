import EngineIO
import SocketIO
import Transport

/// Why an Engine.IO client session ended; the strings are the JavaScript client's reasons.
public enum EngineClientCloseReason: Sendable, Hashable, CustomStringConvertible {
    /// The client closed the session (`disconnect()`).
    case forcedClose
    /// The server closed the connection or sent a close packet.
    case transportClose
    /// The transport failed (network error, HTTP error status, bad handshake); carries the detail.
    case transportError(String)
    /// No ping arrived within pingInterval + pingTimeout: the server is gone.
    case pingTimeout
    /// The server sent something that is not Engine.IO.
    case parseError

    public var description: String {
        switch self {
        case .forcedClose: return "forced close"
        case .transportClose: return "transport close"
        case .transportError(let detail): return "transport error: \(detail)"
        case .pingTimeout: return "ping timeout"
        case .parseError: return "parse error"
        }
    }
}

/// The `open` packet's data, as the client reads it.
public struct EngineOpenInfo: Sendable, Hashable {
    /// The session id.
    public var sid: String
    /// Transports the server offers to upgrade to.
    public var upgrades: [String]
    /// Milliseconds between server pings.
    public var pingInterval: Int
    /// Milliseconds the server waits for a pong.
    public var pingTimeout: Int
    /// Largest payload the server accepts.
    public var maxPayload: Int

    /// Parses the handshake JSON.
    static func parse(_ bytes: [UInt8]) -> EngineOpenInfo? {
        guard let value = try? JSONParser.parse(bytes), let sid = value["sid"]?.stringValue else { return nil }
        return EngineOpenInfo(
            sid: sid, upgrades: value["upgrades"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            pingInterval: value["pingInterval"]?.intValue ?? 25_000, pingTimeout: value["pingTimeout"]?.intValue ?? 20_000,
            maxPayload: value["maxPayload"]?.intValue ?? 1_000_000)
    }
}

/// What an engine client reports, on its loop thread.
protocol EngineClientDelegate: AnyObject {
    /// The session is open.
    func engineDidOpen(_ engine: EngineClient, info: EngineOpenInfo)
    /// A message packet (text or binary) arrived.
    func engine(_ engine: EngineClient, didReceiveMessage packet: EnginePacket)
    /// The session ended, or could not open (`wasOpen` false).
    func engine(_ engine: EngineClient, didCloseWith reason: EngineClientCloseReason, wasOpen: Bool)
}

/// One Engine.IO v4 client session, after the JavaScript client's `Socket`: opens with the first of the
/// configured transports, probes and upgrades polling to WebSocket, answers pings, detects a silent server
/// by the ping timeout, and buffers packets while no transport can take them. Loop-confined.
final class EngineClient: EngineClientTransportDelegate, @unchecked Sendable {
    // Invariant for @unchecked Sendable: used on `loop`'s thread only.
    enum State { case idle, opening, open, closed }

    let loop: EventLoop
    weak var delegate: EngineClientDelegate?
    private let context: EngineSessionContext
    private(set) var state = State.idle
    private var transport: EngineClientTransport?
    private var probe: WebSocketTransport?
    private var upgrading = false
    private var writeBuffer: [EnginePacket] = []
    private(set) var info: EngineOpenInfo?
    private var pingTimer: LoopTimer?

    init(loop: EventLoop, endpoint: EngineEndpoint, options: EngineClientOptions, connector: any ClientStreamConnector) {
        self.loop = loop
        self.context = EngineSessionContext(loop: loop, endpoint: endpoint, options: options, connector: connector)
    }

    /// The transport in use now.
    var transportKind: EngineTransport? { self.transport?.kind }

    /// Whether a packet sent now would go out at once (used for volatile packets).
    var canSendImmediately: Bool {
        self.state == .open && !self.upgrading && (self.transport?.isWritable ?? false) && self.writeBuffer.isEmpty
    }

    func open() {
        guard self.state == .idle else { return }
        self.state = .opening
        let kinds = self.context.options.transports.isEmpty ? [.polling, .websocket] : self.context.options.transports
        let transport = self.makeTransport(kinds[0])
        self.transport = transport
        transport.open()
    }

    private func makeTransport(_ kind: EngineTransport) -> EngineClientTransport {
        let transport: EngineClientTransport = kind == .polling
            ? PollingTransport(context: self.context) : WebSocketTransport(context: self.context)
        transport.delegate = self
        return transport
    }

    // MARK: Sending

    /// Queues a packet; it leaves as soon as the transport can take it.
    func send(_ packet: EnginePacket) {
        guard self.state == .opening || self.state == .open else { return }
        self.writeBuffer.append(packet)
        self.flush()
    }

    private func flush() {
        guard self.state == .open, !self.upgrading, let transport = self.transport, transport.isWritable,
              !self.writeBuffer.isEmpty else { return }
        let packets: [EnginePacket]
        if transport.kind == .polling {
            packets = self.takeForPayload()
        } else {
            packets = self.writeBuffer
            self.writeBuffer.removeAll(keepingCapacity: true)
        }
        transport.send(packets)
    }

    /// The leading packets that fit in one POST of at most maxPayload bytes and `maxPacketsPerPost`
    /// packets (at least one).
    private func takeForPayload() -> [EnginePacket] {
        let limit = self.context.maxPayload
        let maxCount = max(1, self.context.options.maxPacketsPerPost)
        var length = 0
        var count = 0
        for packet in self.writeBuffer where count < maxCount {
            let size = EnginePacketCodec.encodedLength(of: packet) + (packet.isBinary ? packet.data.count / 3 + 4 : 0) + 1
            if count > 0 && length + size > limit { break }
            length += size
            count += 1
        }
        let packets = Array(self.writeBuffer.prefix(count))
        self.writeBuffer.removeFirst(count)
        return packets
    }

    // MARK: Closing

    /// Closes the session from the client side (`forced close`).
    func close() {
        guard self.state == .opening || self.state == .open else { return }
        // Queued packets go out first when the transport can take them right away (WebSocket).
        self.flush()
        self.finish(.forcedClose, closeTransport: true)
    }

    private func finish(_ reason: EngineClientCloseReason, closeTransport: Bool) {
        guard self.state == .opening || self.state == .open else { return }
        let wasOpen = self.state == .open
        self.state = .closed
        if let timer = self.pingTimer { self.loop.cancel(timer) }
        self.pingTimer = nil
        if let probe = self.probe {
            self.probe = nil
            probe.delegate = nil
            probe.close()
        }
        if let transport = self.transport {
            transport.delegate = nil
            if closeTransport { transport.close() } else { transport.discard() }
        }
        self.writeBuffer = []
        self.delegate?.engine(self, didCloseWith: reason, wasOpen: wasOpen)
    }

    // MARK: Heartbeat

    private func resetPingTimeout() {
        guard let info = self.info, self.state == .open else { return }
        let window = info.pingInterval + info.pingTimeout
        if let timer = self.pingTimer {
            self.loop.reschedule(timer, afterMillis: window)
        } else {
            self.pingTimer = self.loop.schedule(afterMillis: window) { [weak self] in self?.pingTimedOut() }
        }
    }

    private func pingTimedOut() {
        self.pingTimer = nil
        self.finish(.pingTimeout, closeTransport: false)
    }

    // MARK: Upgrade

    private func startProbe() {
        let probe = WebSocketTransport(context: self.context)
        probe.delegate = self
        self.probe = probe
        probe.open()
    }

    private func probeFailed() {
        guard let probe = self.probe else { return }
        self.probe = nil
        probe.delegate = nil
        probe.close()
        if self.upgrading {
            self.upgrading = false
            self.transport?.resume()
        }
    }

    private func probeAnswered(_ probe: WebSocketTransport) {
        self.upgrading = true
        self.transport?.pause { [weak self] in
            guard let self, self.state == .open, self.probe === probe else { return }
            probe.send([.upgrade])
            self.probe = nil
            self.transport?.delegate = nil
            self.transport?.discard()
            self.transport = probe
            self.upgrading = false
            self.flush()
        }
    }

    // MARK: EngineClientTransportDelegate

    func transportDidOpen(_ transport: EngineClientTransport) {
        if transport === self.probe {
            transport.send([.ping("probe")])
        }
    }

    func transport(_ transport: EngineClientTransport, didReceive packet: EnginePacket) {
        if transport === self.probe {
            if packet.type == .pong, packet.data.elementsEqual("probe".utf8), !self.upgrading, self.state == .open {
                self.probeAnswered(self.probe!)
            } else if packet.type != .noop {
                self.probeFailed()
            }
            return
        }
        guard transport === self.transport else { return }
        switch packet.type {
        case .open:
            guard self.state == .opening, let info = EngineOpenInfo.parse(packet.data) else {
                self.finish(.parseError, closeTransport: true)
                return
            }
            self.info = info
            self.context.sid = info.sid
            self.context.heartbeatWindowMillis = info.pingInterval + info.pingTimeout
            self.context.maxPayload = info.maxPayload
            self.state = .open
            self.resetPingTimeout()
            self.delegate?.engineDidOpen(self, info: info)
            guard self.state == .open else { return }
            self.flush()
            if transport.kind == .polling, self.context.options.upgrade, info.upgrades.contains("websocket"),
               self.context.options.transports.contains(.websocket) {
                self.startProbe()
            }
        case .ping:
            self.resetPingTimeout()
            self.send(.pong(packet.text ?? ""))
        case .message:
            self.resetPingTimeout()
            self.delegate?.engine(self, didReceiveMessage: packet)
        case .close:
            self.finish(.transportClose, closeTransport: false)
        case .pong, .upgrade, .noop:
            self.resetPingTimeout()
        }
    }

    func transportDidDrain(_ transport: EngineClientTransport) {
        guard transport === self.transport else { return }
        self.flush()
    }

    func transport(_ transport: EngineClientTransport, didFail reason: String) {
        if transport === self.probe {
            self.probeFailed()
            return
        }
        guard transport === self.transport else { return }
        self.finish(reason.hasPrefix("parse error") ? .parseError : .transportError(reason), closeTransport: false)
    }

    func transportDidClose(_ transport: EngineClientTransport) {
        if transport === self.probe {
            self.probeFailed()
            return
        }
        guard transport === self.transport else { return }
        self.finish(.transportClose, closeTransport: false)
    }
}
