import EngineIO
import HTTPKit
import Transport

/// A client on the WebSocket transport: an HTTP/1.1 upgrade through `HTTPClientConnection`, then one
/// masked text frame per Engine.IO packet (`WebSocketFrameEncoder`), and the server's frames read with
/// `WebSocketFrameDecoder` straight from the connection's read buffer.
///
/// After the upgrade the client becomes the `TCPConnection`'s handler itself: the stream wrapper would add
/// a weak load and an existential call to every read and write of the hot path.
final class WebSocketLoadClient: LoadClient, ConnectionHandler, ClientStreamDelegate, @unchecked Sendable {
    // Invariant for @unchecked Sendable: as for `LoadClient`, loop thread only.

    private var handshake: HTTPClientConnection?
    /// The upgraded connection (plain TCP, the normal case) …
    @exclusivity(unchecked) private var connection: TCPConnection?
    /// … or the upgraded stream when it is something else.
    private var stream: (any ClientStream)?
    @exclusivity(unchecked) private var decoder = WebSocketFrameDecoder(role: .client, maxPayloadLength: 64 * 1024 * 1024)
    /// Frames sent while a read is being handled, written to the connection once when it is done: one
    /// hand-over per read instead of one per answer.
    @exclusivity(unchecked) private var batch: [UInt8] = []
    @exclusivity(unchecked) private var batching = false
    /// A fragmented message being collected (servers rarely fragment; `sioload` copes, so do we).
    private var fragments: [UInt8] = []
    private var fragmentOpcode: WebSocketOpcode?

    /// One OpenSSL context for every `--tls` client; no verification (the server's test certificate).
    private static let tlsConnector: TLSConnector? = {
        var configuration = TLSConfiguration()
        configuration.verifyCertificate = false
        return try? TLSConnector(configuration: configuration)
    }()

    override func start() {
        self.state = .connecting
        let key = WebSocketHandshake.makeClientKey()
        var headers = HTTPHeaders()
        for field in WebSocketHandshake.clientRequestHeaders(key: key) { headers.add(field.name, field.value) }
        let request = HTTPClientRequest(method: "GET", target: "\(self.options.path)?EIO=4&transport=websocket",
                                        headers: headers)
        let timeout = Int(self.options.connectTimeout * 1000)
        let chosen: (any ClientStreamConnector)? = self.options.tls ? Self.tlsConnector : TCPStreamConnector(source: self.options.source(forClient: self.index))
        guard let connector = chosen else {
            self.fail("TLS: OpenSSL could not set up a client context")
            return
        }
        HTTPClientConnection.connect(host: self.options.host, port: self.options.port(forClient: self.index), connector: connector, on: self.loop,
                                     timeoutMillis: timeout) { [self] result in
            guard self.state == .connecting else {
                if case .success(let connection) = result { connection.close() }
                return
            }
            switch result {
            case .failure(let error):
                self.fail("connect: \(error)")
            case .success(let connection):
                self.handshake = connection
                connection.execute(request, timeoutMillis: timeout) { [self] result in
                    self.upgraded(result, key: key)
                }
            }
        }
    }

    private func upgraded(_ result: Result<HTTPClientResponse, HTTPClientError>, key: String) {
        guard self.state == .connecting, let handshake = self.handshake else { return }
        let response: HTTPClientResponse
        switch result {
        case .failure(let error):
            self.fail("upgrade: \(error)")
            return
        case .success(let value):
            response = value
        }
        do {
            try WebSocketHandshake.validateUpgradeResponse(
                status: response.status, upgrade: response.headers["Upgrade"],
                connection: response.headers["Connection"], accept: response.headers["Sec-WebSocket-Accept"], key: key)
        } catch {
            self.fail("upgrade refused (HTTP \(response.status))", protocolError: true)
            return
        }
        guard let (stream, leftover) = handshake.takeUpgradedStream() else {
            self.fail("connection lost during the upgrade")
            return
        }
        self.handshake = nil
        if let tcp = stream as? TCPClientStream {
            self.connection = tcp.connection
            tcp.connection.handler = self
        } else {
            self.stream = stream
            stream.delegate = self
        }
        self.state = .engineOpening
        if !leftover.isEmpty {
            var buffer = leftover
            self.read(&buffer)
        }
    }

    override func send(length: Int, _ write: (inout [UInt8]) -> Void) {
        let key = self.wire.nextMaskingKey()
        if self.batching {
            Self.frame(length: length, key: key, write, into: &self.batch)
        } else if let connection = self.connection {
            connection.withOutboundBuffer { Self.frame(length: length, key: key, write, into: &$0) }
        } else {
            self.stream?.withOutboundBuffer { Self.frame(length: length, key: key, write, into: &$0) }
        }
    }

    /// Appends a masked text frame whose `length` payload bytes `write` appends.
    @inline(__always)
    private static func frame(length: Int, key: WebSocketMaskingKey, _ write: (inout [UInt8]) -> Void,
                              into out: inout [UInt8]) {
        WebSocketFrameEncoder.headerBytes(opcode: .text, payloadLength: length, maskingKey: key, into: &out)
        let start = out.count
        write(&out)
        key.apply(to: &out, range: start..<out.count)
    }

    /// Hands the frames collected during a read to the connection.
    private func flushBatch() {
        self.batching = false
        guard !self.batch.isEmpty else { return }
        if let connection = self.connection {
            connection.withOutboundBuffer { $0.append(contentsOf: self.batch) }
        } else {
            self.stream?.withOutboundBuffer { $0.append(contentsOf: self.batch) }
        }
        self.batch.removeAll(keepingCapacity: self.batch.capacity <= 64 * 1024)
    }

    override func closeTransport() {
        self.handshake?.close()
        self.handshake = nil
        if let connection = self.connection {
            connection.handler = nil
            connection.close()
        }
        self.connection = nil
        if let stream = self.stream {
            stream.delegate = nil
            stream.close()
        }
        self.stream = nil
    }

    // MARK: Reading

    func connectionRead(_ connection: TCPConnection, _ buffer: inout ByteBuffer) { self.read(&buffer) }

    func connectionClosed(_ connection: TCPConnection, error: Int32?) { self.closed(error: error) }

    func streamRead(_ stream: any ClientStream, _ buffer: inout ByteBuffer) { self.read(&buffer) }

    func streamClosed(_ stream: any ClientStream, error: Int32?) { self.closed(error: error) }

    private func closed(error: Int32?) {
        self.connection = nil
        self.stream = nil
        self.fail(error.map { "connection closed (errno \($0))" } ?? "eof")
    }

    private func read(_ buffer: inout ByteBuffer) {
        self.batching = true
        defer { self.flushBatch() }
        while self.state != .dead {
            let header: WebSocketFrameHeader?
            do {
                header = try self.decoder.peekHeader(in: buffer)
            } catch {
                buffer.clear()
                self.fail("websocket: \(error)", protocolError: true)
                return
            }
            guard let header, buffer.readableBytes >= header.frameLength else { return }
            buffer.withReadableBytes { raw in
                self.frame(header, UnsafeRawBufferPointer(rebasing: raw[header.headerLength..<header.frameLength]))
            }
            if self.state == .dead { return }
            buffer.moveReaderIndex(forwardBy: header.frameLength)
        }
    }

    @inline(__always)
    private func frame(_ header: WebSocketFrameHeader, _ payload: UnsafeRawBufferPointer) {
        if header.opcode == .text && header.fin && self.fragmentOpcode == nil {
            self.receive(payload)
            return
        }
        switch header.opcode {
        case .text, .binary, .continuation:
            if header.opcode != .continuation { self.fragmentOpcode = header.opcode }
            self.fragments.append(contentsOf: payload)
            if header.fin {
                let opcode = self.fragmentOpcode
                self.fragmentOpcode = nil
                var message: [UInt8] = []
                swap(&message, &self.fragments)
                // Binary messages (attachments) are not part of the benchmark app.
                if opcode == .text { message.withUnsafeBytes { self.receive($0) } }
            }
        case .ping:
            let key = self.wire.nextMaskingKey()
            let pong = { (out: inout [UInt8]) in
                WebSocketFrameEncoder.encode(opcode: .pong, payload: payload, maskingKey: key, into: &out)
            }
            if let connection = self.connection { connection.withOutboundBuffer(pong) } else { self.stream?.withOutboundBuffer(pong) }
        case .close:
            self.fail("websocket close")
        default:
            break  // pong
        }
    }
}
