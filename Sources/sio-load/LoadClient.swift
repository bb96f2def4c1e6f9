import EngineIO
import SocketIO
import Transport

/// What a client reports to the run that owns it. Called on the loop thread.
protocol LoadClientEvents: AnyObject {
    /// The client joined the main namespace.
    func clientReady(_ client: LoadClient)
    /// The client is gone: it failed to connect (`wasReady` false) or dropped later. `protocolError`
    /// marks refusals and answers that break the protocol, as opposed to network errors.
    func clientFailed(_ client: LoadClient, reason: String, wasReady: Bool, protocolError: Bool)
    /// A Socket.IO answer the scenario cares about (echo, ack, broadcast).
    func client(_ client: LoadClient, answered answer: LoadWire.Answer)
}

/// One simulated Socket.IO client: the Engine.IO and Socket.IO state every transport shares. The
/// transports (`WebSocketLoadClient`, `PollingLoadClient`) move Engine.IO text packets; this class reads
/// them (`receive`) and gives the run what it asked for.
class LoadClient: @unchecked Sendable {
    // Invariant for @unchecked Sendable: created, used and released on `loop`'s thread only.

    enum State: Equatable {
        case idle
        /// TCP connect and HTTP handshake (upgrade or polling `open`).
        case connecting
        /// WebSocket: waiting for the Engine.IO `open` packet.
        case engineOpening
        /// `40` sent, waiting for the namespace's `CONNECT` answer.
        case namespaceConnecting
        case ready
        case dead
    }

    /// Position in the run's list of clients.
    let index: Int
    let loop: EventLoop
    let options: LoadOptions
    let wire: LoadWire
    // The run owns its clients. A client may outlive it only while dead (a connect completing after the
    // end), and a dead client reports nothing, so this reference is never used after the run is gone.
    unowned(unsafe) let events: LoadClientEvents
    // Hot stored properties skip dynamic exclusivity checks; no access to them spans a call that could
    // touch them again.
    @exclusivity(unchecked) final var state = State.idle
    /// The last acknowledgement id used.
    @exclusivity(unchecked) final var lastAckID = 0
    /// Monotonic ns when the run opened the client: the start of its handshake.
    final var openedAt: UInt64 = 0

    init(index: Int, loop: EventLoop, options: LoadOptions, wire: LoadWire, events: LoadClientEvents) {
        self.index = index
        self.loop = loop
        self.options = options
        self.wire = wire
        self.events = events
    }

    /// Opens the connection(s) and joins the main namespace; ends in `clientReady` or `clientFailed`.
    func start() { fatalError("abstract") }

    /// Sends one Engine.IO text packet of `length` bytes (type digit first), which `write` appends to the
    /// transport's output: straight into a WebSocket frame, or into the next polling payload.
    func send(length: Int, _ write: (inout [UInt8]) -> Void) { fatalError("abstract") }

    /// Sends one Engine.IO text packet given as bytes.
    final func send(_ packet: UnsafeRawBufferPointer) {
        self.send(length: packet.count) { $0.append(contentsOf: packet) }
    }

    /// Sends one Engine.IO text packet given as an array.
    final func send(_ packet: [UInt8]) {
        packet.withUnsafeBytes { self.send($0) }
    }

    /// Releases the transport's connections; no event is reported.
    func closeTransport() { fatalError("abstract") }

    /// Closes the client at the end of the run, without reporting anything.
    final func shutdown() {
        self.state = .dead
        self.closeTransport()
    }

    /// Handles one Engine.IO text packet from the server.
    final func receive(_ packet: UnsafeRawBufferPointer) {
        guard let first = packet.first, let type = EnginePacketType(asciiDigit: first) else {
            self.fail("unexpected Engine.IO packet", protocolError: true)
            return
        }
        switch type {
        case .message:
            let answer = self.wire.answer(UnsafeRawBufferPointer(rebasing: packet[1...]))
            switch answer {
            case .echo, .ack, .broadcast:
                self.events.client(self, answered: answer)
            case .connected:
                if self.state == .namespaceConnecting {
                    self.state = .ready
                    self.events.clientReady(self)
                }
            case .refused:
                self.fail(self.wire.problem, protocolError: true)
            case .malformed:
                self.fail("bad Socket.IO packet: \(self.wire.problem)", protocolError: true)
            case .other:
                break
            }
        case .open:
            // WebSocket only; over polling the open packet is the handshake response.
            if self.state == .engineOpening { self.joinNamespace() }
        case .ping:
            // Answer with the same data (`2probe` → `3probe`).
            var pong = Array(packet)
            pong[0] = EnginePacketType.pong.asciiDigit
            self.send(pong)
        case .close:
            self.fail("engine.io close")
        default:
            break  // pong, upgrade, noop
        }
    }

    /// Sends the Socket.IO `CONNECT` for the main namespace.
    final func joinNamespace() {
        self.state = .namespaceConnecting
        self.send(self.wire.encoded(.connect()))
    }

    /// Ends the client and reports why.
    final func fail(_ reason: String, protocolError: Bool = false) {
        guard self.state != .dead else { return }
        let wasReady = self.state == .ready
        self.state = .dead
        self.closeTransport()
        self.events.clientFailed(self, reason: reason, wasReady: wasReady, protocolError: protocolError)
    }
}
