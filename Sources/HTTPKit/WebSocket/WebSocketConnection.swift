import Transport

/// Receives the messages of a WebSocket connection, on its loop thread.
public protocol WebSocketDelegate: AnyObject {
    /// A complete text message (validated UTF-8).
    func webSocket(_ ws: WebSocketConnection, didReceiveText bytes: [UInt8])
    /// A complete text message (validated UTF-8) read in place: the slice shares the connection's read
    /// buffer. The default copies it into an array for `webSocket(_:didReceiveText:)` above.
    func webSocket(_ ws: WebSocketConnection, didReceiveText bytes: ArraySlice<UInt8>)
    /// A complete binary message.
    func webSocket(_ ws: WebSocketConnection, didReceiveBinary bytes: [UInt8])
    /// The connection is gone; `code` is the peer's close code, nil when it vanished without one.
    func webSocketDidClose(_ ws: WebSocketConnection, code: UInt16?)
}

extension WebSocketDelegate {
    /// Copies the in-place text into an array for delegates that only take arrays.
    public func webSocket(_ ws: WebSocketConnection, didReceiveText bytes: ArraySlice<UInt8>) {
        self.webSocket(ws, didReceiveText: Array(bytes))
    }
}

/// A WebSocket over one TCP connection, in either role: reads frames through the message assembler,
/// answers pings and the close handshake, and writes frames straight into the connection's output buffer.
public final class WebSocketConnection: ConnectionHandler, @unchecked Sendable {
    // Invariant for @unchecked Sendable: used on `connection.loop` only; `activate()` is the one call made
    // after a hop to a new loop, before any other use there.
    // Hot stored properties skip dynamic exclusivity checks; no access to them spans a re-entrant call.

    /// The TCP connection underneath.
    public let connection: TCPConnection
    /// Who gets the messages; cleared when the connection closes.
    public var delegate: WebSocketDelegate? {
        get { self.receiver }
        set { self.receiver = newValue }
    }
    // Stored apart from `delegate`: another module setting a stored property gets a dynamic exclusivity
    // check that `@exclusivity(unchecked)` only removes inside this module (every upgrade sets it).
    @exclusivity(unchecked) private var receiver: WebSocketDelegate?
    private let role: WebSocketRole
    private let assembler: WebSocketMessageAssembler
    @exclusivity(unchecked) private var compressor: PerMessageDeflateCompressor?
    /// Messages shorter than this many bytes go out uncompressed even when deflate was negotiated.
    private let compressionThreshold: Int
    @exclusivity(unchecked) private var active: Bool
    @exclusivity(unchecked) private var sentClose = false
    @exclusivity(unchecked) private var receivedCloseCode: UInt16?
    @exclusivity(unchecked) private var notifiedClose = false

    /// `active` false leaves incoming bytes buffered until `activate()` (used while the connection moves
    /// to another loop). With `deflate`, messages shorter than `compressionThreshold` bytes are sent
    /// uncompressed: deflating a few bytes saves nothing and costs the peer an inflate.
    public init(connection: TCPConnection, role: WebSocketRole, maxMessageSize: Int,
                deflate: PerMessageDeflateParameters?, compressionThreshold: Int = PerMessageDeflate.defaultThreshold,
                active: Bool = true) {
        self.connection = connection
        self.role = role
        self.assembler = WebSocketMessageAssembler(role: role, maxMessageSize: maxMessageSize, permessageDeflate: deflate)
        self.compressor = deflate?.makeCompressor(role: role)
        self.compressionThreshold = compressionThreshold
        self.active = active
    }

    /// Starts processing input (after a move between loops).
    public func activate() { self.active = true }

    /// False while the peer is not keeping up with what we send.
    public var isWritable: Bool { self.connection.isWritable }

    // MARK: Sending

    /// Sends a text message made of an optional one-byte prefix (the Engine.IO packet type) and `bytes`.
    /// `compress: false` sends it uncompressed whatever was negotiated (Socket.IO's `compress(false)`).
    @inlinable public func sendText(prefix: UInt8?, _ bytes: some Collection<UInt8>, compress: Bool = true) {
        if let done = bytes.withContiguousStorageIfAvailable({
            self.sendMessage(opcode: .text, prefix: prefix, UnsafeRawBufferPointer($0), compress: compress)
        }) {
            return done
        }
        Array(bytes).withUnsafeBytes { self.sendMessage(opcode: .text, prefix: prefix, $0, compress: compress) }
    }

    /// Sends a text message made of an optional one-byte prefix and `bytes` (the common, non-generic case).
    public func sendText(prefix: UInt8?, _ bytes: [UInt8], compress: Bool = true) {
        bytes.withUnsafeBytes { self.sendMessage(opcode: .text, prefix: prefix, $0, compress: compress) }
    }

    /// Sends a text message of exactly `length` bytes that `write` appends to the array it is given: without
    /// deflate, straight into the connection's output buffer (no intermediate copy of the message).
    public func sendText(length: Int, compress: Bool = true, _ write: (inout [UInt8]) -> Void) {
        guard !self.sentClose, !self.connection.isClosed else { return }
        if self.compressor != nil, compress, length >= self.compressionThreshold {
            var plain: [UInt8] = []
            plain.reserveCapacity(length)
            write(&plain)
            plain.withUnsafeBytes { self.sendMessage(opcode: .text, prefix: nil, $0, compress: true) }
            return
        }
        self.writeFrame(opcode: .text, rsv1: false, length: length) { out in
            let start = out.count
            write(&out)
            // The header already announced `length`: a writer that disagrees would corrupt the stream.
            precondition(out.count - start == length, "sendText(length:) wrote a different length")
        }
    }

    /// Sends a text message of exactly `length` bytes that `fill` writes (`RawByteWriter` stops the process on
    /// a write past `length`; fewer bytes also stop it). Without deflate a message that fits a small stack
    /// frame is framed there and queued with one copy, instead of the appends `sendText(length:_:)` makes
    /// into the output buffer (each one a uniqueness and capacity check).
    public func sendText(length: Int, compress: Bool = true, filling fill: (inout RawByteWriter) -> Void) {
        guard !self.sentClose, !self.connection.isClosed else { return }
        let plain = self.compressor == nil || !compress || length < self.compressionThreshold
        if plain && self.role == .server && length <= Self.stackFramePayloadLimit {
            withUnsafeTemporaryAllocation(byteCount: Self.stackFramePayloadLimit + 4, alignment: 8) { region in
                let header = WebSocketFrameEncoder.headerLength(payloadLength: length, masked: false)
                var writer = RawByteWriter(UnsafeMutableRawBufferPointer(rebasing: region[0..<(header + length)]))
                WebSocketFrameEncoder.writeHeader(opcode: .text, payloadLength: length, into: &writer)
                fill(&writer)
                precondition(writer.isFull, "sendText(length:filling:) wrote fewer bytes than announced")
                self.connection.write(UnsafeRawBufferPointer(rebasing: region[0..<writer.count]))
            }
            return
        }
        self.sendText(length: length, compress: compress) { out in
            let start = out.count
            out.append(contentsOf: repeatElement(0, count: length))
            out.withUnsafeMutableBytes { bytes in
                var writer = RawByteWriter(UnsafeMutableRawBufferPointer(rebasing: bytes[start...]))
                fill(&writer)
                precondition(writer.isFull, "sendText(length:filling:) wrote fewer bytes than announced")
            }
        }
    }

    /// The largest payload `sendText(length:filling:)` frames in stack memory (its header then takes at most
    /// 4 bytes); larger ones are written into the output buffer.
    static let stackFramePayloadLimit = 1020

    /// Sends a text message framed once for many connections: a server connection that sends it uncompressed
    /// queues the shared frame itself (no copy); otherwise the payload is framed here as any message is.
    public func sendText(_ shared: WebSocketSharedText, compress: Bool = true) {
        guard !self.sentClose, !self.connection.isClosed else { return }
        if self.role == .server && (self.compressor == nil || !compress || shared.payloadLength < self.compressionThreshold) {
            self.connection.writeShared(shared.frame)
            return
        }
        shared.withPayload { self.sendMessage(opcode: .text, prefix: nil, $0, compress: compress) }
    }

    /// Sends a binary message; `compress: false` sends it uncompressed whatever was negotiated.
    @inlinable public func sendBinary(_ bytes: some Collection<UInt8>, compress: Bool = true) {
        if let done = bytes.withContiguousStorageIfAvailable({
            self.sendMessage(opcode: .binary, prefix: nil, UnsafeRawBufferPointer($0), compress: compress)
        }) {
            return done
        }
        Array(bytes).withUnsafeBytes { self.sendMessage(opcode: .binary, prefix: nil, $0, compress: compress) }
    }

    @usableFromInline func sendMessage(opcode: WebSocketOpcode, prefix: UInt8?, _ bytes: UnsafeRawBufferPointer, compress: Bool) {
        guard !self.sentClose, !self.connection.isClosed else { return }
        let length = bytes.count + (prefix == nil ? 0 : 1)
        // Without deflate the first test fails and nothing else is evaluated.
        if let compressor = self.compressor, compress, length >= self.compressionThreshold {
            var plain: [UInt8] = []
            plain.reserveCapacity(length)
            if let prefix { plain.append(prefix) }
            plain.append(contentsOf: bytes)
            guard let compressed = try? compressor.compress(plain) else {
                self.close(code: WebSocketCloseCode.internalError)
                return
            }
            self.writeFrame(opcode: opcode, rsv1: true, length: compressed.count) { out in out.append(contentsOf: compressed) }
            return
        }
        self.writeFrame(opcode: opcode, rsv1: false, length: length) { out in
            if let prefix { out.append(prefix) }
            out.append(contentsOf: bytes)
        }
    }

    /// Appends one frame to the output buffer, masking it in place in the client role.
    private func writeFrame(opcode: WebSocketOpcode, rsv1: Bool, length: Int, payload: (inout [UInt8]) -> Void) {
        let key: WebSocketMaskingKey? = self.role == .client ? .random() : nil
        self.connection.withOutboundBuffer { out in
            WebSocketFrameEncoder.headerBytes(opcode: opcode, payloadLength: length, rsv1: rsv1, maskingKey: key, into: &out)
            let start = out.count
            payload(&out)
            if let key { key.apply(to: &out, range: start..<out.count) }
        }
    }

    private func sendControl(_ opcode: WebSocketOpcode, _ payload: [UInt8]) {
        guard !self.connection.isClosed else { return }
        self.writeFrame(opcode: opcode, rsv1: false, length: payload.count) { $0.append(contentsOf: payload) }
    }

    /// Starts the closing handshake; the TCP connection closes once the frame is out.
    public func close(code: UInt16 = WebSocketCloseCode.normalClosure, reason: String = "") {
        guard !self.sentClose else { return }
        self.sentClose = true
        self.sendControl(.close, WebSocketFrameEncoder.closePayload(code: code, reason: reason))
        self.connection.closeGracefully()
    }

    // MARK: Receiving

    /// TCPConnectionHandler: decodes the frames read.
    public func connectionRead(_ connection: TCPConnection, _ buffer: inout ByteBuffer) {
        guard self.active else { return }
        while !self.connection.isClosed {
            if !self.sentClose, buffer.storageCapacity <= Self.inPlaceCapacity {
                do {
                    if let text = try self.assembler.nextTextInPlace(in: &buffer) {
                        self.delegate?.webSocket(self, didReceiveText: buffer.readableView(text.payload))
                        buffer.moveReaderIndex(forwardBy: text.frameLength)
                        // No frame header fits in fewer than two bytes: the usual read, one whole frame, ends
                        // here without asking both readers again (about 100 instructions per message).
                        if buffer.readableBytes < 2 { return }
                        continue
                    }
                } catch {
                    self.close(code: error.closeCode)
                    buffer.clear()
                    return
                }
            }
            let message: WebSocketMessageAssembler.Event
            do {
                guard let next = try self.assembler.next(from: &buffer) else { return }
                message = next
            } catch {
                self.close(code: error.closeCode)
                buffer.clear()
                return
            }
            if self.sentClose {
                // After our close frame only the peer's close matters.
                if case .close = message { self.connection.close() }
                continue
            }
            // Consumed rather than copied: the payload array goes to the delegate without a retain/release.
            switch consume message {
            case .text(let bytes):
                self.delegate?.webSocket(self, didReceiveText: bytes)
            case .binary(let bytes):
                self.delegate?.webSocket(self, didReceiveBinary: bytes)
            case .ping(let payload):
                self.sendControl(.pong, payload)
            case .pong:
                break
            case .close(let code, _):
                self.receivedCloseCode = code ?? WebSocketCloseCode.noStatusReceived
                self.close(code: code ?? WebSocketCloseCode.normalClosure)
                buffer.clear()
                return
            }
        }
    }

    /// Text messages are handed over in place (a slice of the read buffer, no copy) while the buffer's
    /// storage is at most this large: a handler that keeps the slice keeps the storage alive, so this bounds
    /// what it holds. A larger buffer gives each message an array of its own, as other frames get.
    /// The loop lends reads that fit its small read storage exactly that: `LoopReadStorage.smallCapacity`,
    /// written as a literal so that it stays a constant here (WebSocketInPlaceAfterLargeReadTests checks).
    static let inPlaceCapacity = 4096

    /// TCPConnectionHandler: reports the close to the delegate.
    public func connectionClosed(_ connection: TCPConnection, error: Int32?) {
        guard !self.notifiedClose else { return }
        self.notifiedClose = true
        let delegate = self.delegate
        self.delegate = nil
        delegate?.webSocketDidClose(self, code: self.receivedCloseCode)
    }
}
