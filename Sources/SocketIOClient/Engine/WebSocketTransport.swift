import EngineIO
import HTTPKit
import Transport

/// The WebSocket transport: an HTTP/1.1 upgrade, then one Engine.IO packet per WebSocket message, masked
/// as the client role requires (text: type digit + data; binary: the raw bytes of a message packet).
final class WebSocketTransport: EngineClientTransport, ClientStreamDelegate, @unchecked Sendable {
    // Invariant for @unchecked Sendable: used on `context.loop`'s thread only.
    private enum State { case idle, opening, open, closed }

    let kind = EngineTransport.websocket
    weak var delegate: EngineClientTransportDelegate?
    private let context: EngineSessionContext
    private var state = State.idle
    private var handshakeConnection: HTTPClientConnection?
    private var stream: (any ClientStream)?
    private var assembler: WebSocketMessageAssembler?
    private var compressor: PerMessageDeflateCompressor?

    init(context: EngineSessionContext) {
        self.context = context
    }

    var isWritable: Bool { self.state == .open }

    func open() {
        guard self.state == .idle else { return }
        self.state = .opening
        let key = WebSocketHandshake.makeClientKey()
        let deflate = self.context.options.perMessageDeflate ? PerMessageDeflateConfiguration() : nil
        var headers = self.context.headers
        for header in WebSocketHandshake.clientRequestHeaders(key: key, extensions: deflate.map { PerMessageDeflate.clientOffer(configuration: $0) }) {
            headers.add(header.name, header.value)
        }
        let request = HTTPClientRequest(method: "GET", target: self.context.target(for: .websocket), headers: headers)
        let timeout = self.context.options.requestTimeoutMillis
        self.context.connect { [weak self] result in
            guard let self, self.state == .opening else {
                if case .success(let connection) = result { connection.close() }
                return
            }
            switch result {
            case .failure(let error):
                self.fail("websocket error: \(error)")
            case .success(let connection):
                self.handshakeConnection = connection
                connection.execute(request, timeoutMillis: timeout) { [weak self] result in
                    self?.handshakeCompleted(result, key: key, deflate: deflate)
                }
            }
        }
    }

    private func handshakeCompleted(_ result: Result<HTTPClientResponse, HTTPClientError>, key: String,
                                    deflate: PerMessageDeflateConfiguration?) {
        guard self.state == .opening, let connection = self.handshakeConnection else { return }
        let response: HTTPClientResponse
        switch result {
        case .failure(let error):
            self.fail("websocket error: \(error)")
            return
        case .success(let value):
            response = value
        }
        let parameters: PerMessageDeflateParameters?
        do {
            try WebSocketHandshake.validateUpgradeResponse(
                status: response.status, upgrade: response.headers["Upgrade"], connection: response.headers["Connection"],
                accept: response.headers["Sec-WebSocket-Accept"], key: key)
            parameters = try deflate.flatMap {
                try PerMessageDeflate.parseServerResponse(response.headers["Sec-WebSocket-Extensions"], configuration: $0)
            }
        } catch {
            let body = String(decoding: response.body.prefix(200), as: UTF8.self)
            self.fail("websocket error: handshake refused (HTTP \(response.status)) \(body)")
            return
        }
        guard let (stream, leftover) = connection.takeUpgradedStream() else {
            self.fail("websocket error: connection lost")
            return
        }
        self.context.storeCookies(from: response)
        self.handshakeConnection = nil
        self.stream = stream
        self.assembler = WebSocketMessageAssembler(role: .client, maxMessageSize: self.context.options.maxMessageSize,
                                                   permessageDeflate: parameters)
        self.compressor = parameters?.makeCompressor(role: .client)
        stream.delegate = self
        self.state = .open
        self.delegate?.transportDidOpen(self)
        if !leftover.isEmpty, self.state == .open {
            var buffer = leftover
            self.streamRead(stream, &buffer)
        }
    }

    // MARK: Sending

    func send(_ packets: [EnginePacket]) {
        guard self.state == .open, let stream = self.stream else { return }
        for packet in packets {
            switch packet.payload {
            case .text(let bytes):
                self.writeMessage(.text, prefix: packet.type.asciiDigit, bytes, on: stream)
            case .binary(let bytes):
                self.writeMessage(.binary, prefix: nil, bytes, on: stream)
            }
        }
    }

    private func writeMessage(_ opcode: WebSocketOpcode, prefix: UInt8?, _ bytes: [UInt8], on stream: any ClientStream) {
        let length = bytes.count + (prefix == nil ? 0 : 1)
        if let compressor = self.compressor, length >= self.context.options.perMessageDeflateThreshold {
            var plain: [UInt8] = []
            plain.reserveCapacity(bytes.count + 1)
            if let prefix { plain.append(prefix) }
            plain.append(contentsOf: bytes)
            guard let compressed = try? compressor.compress(plain) else {
                self.fail("websocket error: compression failed")
                return
            }
            self.writeFrame(opcode, rsv1: true, length: compressed.count, on: stream) { $0.append(contentsOf: compressed) }
            return
        }
        self.writeFrame(opcode, rsv1: false, length: length, on: stream) { out in
            if let prefix { out.append(prefix) }
            out.append(contentsOf: bytes)
        }
    }

    /// Appends one masked frame to the stream's output (a fresh key per frame, RFC 6455 §5.3).
    private func writeFrame(_ opcode: WebSocketOpcode, rsv1: Bool, length: Int, on stream: any ClientStream,
                            payload: (inout [UInt8]) -> Void) {
        let key = Self.maskingKey()
        stream.withOutboundBuffer { out in
            WebSocketFrameEncoder.headerBytes(opcode: opcode, payloadLength: length, rsv1: rsv1, maskingKey: key, into: &out)
            let start = out.count
            payload(&out)
            key.apply(to: &out, range: start..<out.count)
        }
    }

    /// A key from the system's secure generator through the thread's pool of its bytes: as unpredictable as
    /// `WebSocketMaskingKey.random()`, without a getrandom call per frame.
    private static func maskingKey() -> WebSocketMaskingKey {
        var generator = PooledSystemRandom()
        let value = UInt32(truncatingIfNeeded: generator.next())
        return WebSocketMaskingKey(UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
                                   UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value))
    }

    // MARK: Receiving

    func streamRead(_ stream: any ClientStream, _ buffer: inout ByteBuffer) {
        guard let assembler = self.assembler else { return }
        while self.state == .open {
            let event: WebSocketMessageAssembler.Event?
            do {
                event = try assembler.next(from: &buffer)
            } catch {
                let payload = WebSocketFrameEncoder.closePayload(code: error.closeCode)
                self.writeFrame(.close, rsv1: false, length: payload.count, on: stream) { $0.append(contentsOf: payload) }
                buffer.clear()
                self.fail("websocket error: \(error)")
                return
            }
            guard let event else { return }
            switch event {
            case .text(let bytes):
                do {
                    let packet = try EnginePacketCodec.decode(text: bytes)
                    self.delegate?.transport(self, didReceive: packet)
                } catch {
                    self.fail("parse error: \(error)")
                    return
                }
            case .binary(let bytes):
                self.delegate?.transport(self, didReceive: EnginePacketCodec.decode(binary: bytes))
            case .ping(let payload):
                self.writeFrame(.pong, rsv1: false, length: payload.count, on: stream) { $0.append(contentsOf: payload) }
            case .pong:
                break
            case .close(let code, _):
                let payload = WebSocketFrameEncoder.closePayload(code: code ?? WebSocketCloseCode.normalClosure)
                self.writeFrame(.close, rsv1: false, length: payload.count, on: stream) { $0.append(contentsOf: payload) }
                buffer.clear()
                self.state = .closed
                stream.closeGracefully()
                self.stream = nil
                self.delegate?.transportDidClose(self)
                return
            }
        }
    }

    func streamClosed(_ stream: any ClientStream, error: Int32?) {
        guard self.state != .closed else { return }
        self.stream = nil
        self.fail("websocket connection closed")
    }

    // MARK: Pause, close

    func pause(_ completion: @escaping () -> Void) { completion() }

    func resume() {}

    func close() {
        guard self.state != .closed else { return }
        let wasOpen = self.state == .open
        self.state = .closed
        self.handshakeConnection?.close()
        self.handshakeConnection = nil
        if wasOpen, let stream = self.stream {
            let payload = WebSocketFrameEncoder.closePayload(code: WebSocketCloseCode.normalClosure)
            self.writeFrame(.close, rsv1: false, length: payload.count, on: stream) { $0.append(contentsOf: payload) }
            stream.closeGracefully()
        }
        self.stream = nil
    }

    func discard() { self.close() }

    private func fail(_ reason: String) {
        guard self.state != .closed else { return }
        self.state = .closed
        self.handshakeConnection?.close()
        self.handshakeConnection = nil
        self.stream?.closeGracefully()
        self.stream = nil
        self.delegate?.transport(self, didFail: reason)
    }
}
