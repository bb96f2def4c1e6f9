import Transport

/// The per-connection reader above `WebSocketFrameDecoder`: turns frames into messages and enforces the
/// rules that span frames (RFC 6455 §5.4-5.6, §7; RFC 7692 for compressed messages).
///
/// Drive it from the connection's read path: append received bytes to one `ByteBuffer` (always the same
/// one, only appended to between calls, since an incomplete frame at its front may already be partly
/// checked), then call `next(from:)` until it returns nil (more bytes needed), handling each event:
/// - `.text` / `.binary`: a complete message (text already checked to be valid UTF-8);
/// - `.ping`: answer with a pong carrying the same payload;
/// - `.pong`: a keep-alive answer;
/// - `.close`: the peer's close frame; echo a close (its code, or 1000 when it had none) and stop
///   reading. After a close, `next(from:)` returns nil without consuming anything.
///
/// On a thrown `WebSocketProtocolError`, send a close frame with its `closeCode` and close the
/// connection; every later call throws the same error.
///
/// It is a class because it owns the connection's decompressor (a zlib stream) and must not be copied.
/// It is not thread-safe: `@unchecked Sendable` only so it can be handed to the task or thread that owns
/// the connection; it must never be used from two places at once.
public final class WebSocketMessageAssembler: @unchecked Sendable {
    /// What the peer sent.
    public enum Event: Sendable, Hashable {
        /// A complete text message; the bytes are valid UTF-8.
        case text([UInt8])
        /// A complete binary message.
        case binary([UInt8])
        /// A ping with its application data (at most 125 bytes).
        case ping([UInt8])
        /// A pong with its application data (at most 125 bytes).
        case pong([UInt8])
        /// A close frame: its status code (nil when the frame had no payload) and its reason.
        case close(code: UInt16?, reason: String)
    }

    /// Which end of the connection this assembler reads for.
    public let role: WebSocketRole
    /// The largest message accepted, in bytes after decompression, summed over all fragments.
    public let maxMessageSize: Int

    // Per-message state: no dynamic exclusivity checks (nothing here calls out while accessing it).
    @exclusivity(unchecked) private var decoder: WebSocketFrameDecoder
    private let decompressor: PerMessageDeflateDecompressor?

    /// The opcode (text or binary) of the fragmented message in progress, if any.
    @exclusivity(unchecked) private var messageOpcode: WebSocketOpcode?
    /// Whether the message in progress is compressed (RSV1 on its first frame).
    @exclusivity(unchecked) private var messageCompressed = false
    /// The message in progress, decompressed.
    @exclusivity(unchecked) private var messageBytes: [UInt8] = []
    /// UTF-8 state of the text message in progress, carried across fragments.
    @exclusivity(unchecked) private var validator = UTF8Validator()
    /// Set by the first error; thrown again by every later call.
    @exclusivity(unchecked) private var failure: WebSocketProtocolError?
    /// How many payload bytes of the incomplete text frame at the front of the input were already
    /// validated (see `prevalidatePartialTextFrame`).
    @exclusivity(unchecked) private var prevalidatedCount = 0

    /// True once a close frame has been received; nothing further is read.
    @exclusivity(unchecked) public private(set) var isClosed = false

    /// True while a fragmented message has started but not finished.
    public var isMessageInProgress: Bool { self.messageOpcode != nil }

    /// Creates an assembler.
    ///
    /// - Parameters:
    ///   - role: `.server` expects masked frames (from a client), `.client` unmasked ones.
    ///   - maxMessageSize: the largest message accepted (1009 above it), after decompression.
    ///   - decompressor: the permessage-deflate decompressor when compression was negotiated
    ///     (`parameters.makeDecompressor(role:)`); nil makes RSV1 a protocol error.
    public init(role: WebSocketRole, maxMessageSize: Int, decompressor: PerMessageDeflateDecompressor? = nil) {
        self.role = role
        self.maxMessageSize = max(0, maxMessageSize)
        self.decompressor = decompressor
        self.decoder = WebSocketFrameDecoder(
            role: role, maxPayloadLength: self.maxMessageSize, allowsCompression: decompressor != nil)
    }

    /// Creates an assembler for a connection that negotiated `permessageDeflate` (nil: no compression).
    public convenience init(role: WebSocketRole, maxMessageSize: Int, permessageDeflate: PerMessageDeflateParameters?) {
        self.init(
            role: role, maxMessageSize: maxMessageSize,
            decompressor: permessageDeflate?.makeDecompressor(role: role))
    }

    /// Reads frames from the front of `buffer` until one yields an event.
    ///
    /// - Returns: the next event, or nil when `buffer` holds no complete frame that yields one (fragments
    ///   of a message are consumed and kept internally), or when a close was already received.
    /// - Throws: the protocol violation to fail the connection with (see `closeCode`).
    public func next(from buffer: inout ByteBuffer) throws(WebSocketProtocolError) -> Event? {
        if let failure = self.failure { throw failure }
        do {
            return try self.readEvent(from: &buffer)
        } catch {
            self.failure = error
            self.messageBytes = []
            throw error
        }
    }

    /// Where `nextTextInPlace(in:)` left a text message: `payload` indexes `buffer.readableView`, and the
    /// frame's `frameLength` bytes are to be consumed once the payload is no longer read.
    public struct InPlaceText: Sendable {
        /// The unmasked text, as indices of `buffer.readableView`.
        public let payload: Range<Int>
        /// The whole frame's length (header and payload): what to consume after reading the text.
        public let frameLength: Int
    }

    /// The common message without a copy: when the frame at the front of `buffer` is a whole, unfragmented,
    /// uncompressed text message, unmasks it where it lies, checks its UTF-8 and says where it is, leaving
    /// it in the buffer. Returns nil, with the buffer unchanged, for anything else (`next(from:)` reads it,
    /// and reports any protocol error).
    public func nextTextInPlace(in buffer: inout ByteBuffer) throws(WebSocketProtocolError) -> InPlaceText? {
        guard self.failure == nil, !self.isClosed, self.messageOpcode == nil, buffer.readableBytes >= 2 else { return nil }
        self.decoder.maxPayloadLength = self.frameLimit()
        guard let header = try? self.decoder.peekHeader(in: buffer), header.opcode == .text, header.fin, !header.rsv1,
              header.payloadLength <= self.maxMessageSize,
              buffer.readableBytes - header.headerLength >= header.payloadLength else { return nil }
        let prevalidated = self.prevalidatedCount
        self.prevalidatedCount = 0
        if prevalidated == 0 { self.validator.reset() }
        let start = header.headerLength
        let end = start + header.payloadLength
        let valid = buffer.withUnsafeMutableReadableBytes { raw in
            let payload = UnsafeMutableRawBufferPointer(rebasing: raw[start..<end])
            if let key = header.maskingKey {
                // An all-ASCII payload (the usual JSON) is valid UTF-8: unmasking tells, the validator is skipped.
                if key.applyReportingASCII(to: payload) && prevalidated == 0 { return true }
            }
            return self.validator.validate(UnsafeRawBufferPointer(rebasing: payload[prevalidated...]))
        }
        // The frame is unmasked now: it cannot be read again, so a bad one fails here.
        guard valid && self.validator.isComplete else {
            self.failure = .invalidUTF8
            throw .invalidUTF8
        }
        let base = buffer.readableStartIndex
        return InPlaceText(payload: (base + start)..<(base + end), frameLength: end)
    }

    private func readEvent(from buffer: inout ByteBuffer) throws(WebSocketProtocolError) -> Event? {
        while !self.isClosed {
            // No frame header fits in fewer than two bytes, and there is nothing to prevalidate: the common
            // end of a read that held whole frames, answered without parsing anything.
            guard buffer.readableBytes >= 2 else { return nil }
            self.decoder.maxPayloadLength = self.frameLimit()
            guard let frame = try self.decoder.next(from: &buffer) else {
                try self.prevalidatePartialTextFrame(in: buffer)
                return nil
            }
            // Leading payload bytes of this frame already checked while it was incomplete.
            let prevalidated = self.prevalidatedCount
            self.prevalidatedCount = 0
            switch frame.opcode {
            case .ping:
                return .ping(frame.payload)
            case .pong:
                return .pong(frame.payload)
            case .close:
                let event = try Self.parseClose(frame.payload)
                self.isClosed = true
                return event
            case .text, .binary:
                guard self.messageOpcode == nil else { throw .expectedContinuation }
                if prevalidated == 0 { self.validator.reset() }
                if frame.fin && !frame.rsv1 {
                    // The common case, a whole uncompressed message in one frame: no copy.
                    guard frame.payload.count <= self.maxMessageSize else {
                        throw .messageTooBig(limit: self.maxMessageSize)
                    }
                    guard frame.opcode == .text else { return .binary(frame.payload) }
                    let valid = frame.payload.withUnsafeBytes { raw in
                        self.validator.validate(UnsafeRawBufferPointer(rebasing: raw[prevalidated...]))
                    }
                    guard valid && self.validator.isComplete else { throw .invalidUTF8 }
                    return .text(frame.payload)
                }
                self.messageOpcode = frame.opcode
                self.messageCompressed = frame.rsv1
                if let event = try self.append(frame, prevalidated: prevalidated) { return event }
            case .continuation:
                guard self.messageOpcode != nil else { throw .unexpectedContinuation }
                if let event = try self.append(frame, prevalidated: prevalidated) { return event }
            default:
                // The decoder rejects reserved opcodes; kept for exhaustiveness.
                throw .reservedOpcode(frame.opcode.rawValue)
            }
        }
        return nil
    }

    /// The largest payload the next frame may announce: what is left of the message limit while an
    /// uncompressed message is being assembled (so an oversized fragment fails before it is buffered),
    /// never less than a control frame's 125 bytes since a control frame may come next. Data frames
    /// between that and the true limit are caught when they are added to the message.
    private func frameLimit() -> Int {
        guard self.messageOpcode != nil, !self.messageCompressed else { return max(125, self.maxMessageSize) }
        return max(125, self.maxMessageSize - self.messageBytes.count)
    }

    /// Checks the part of an uncompressed text frame that has arrived so far, so that invalid UTF-8 in a
    /// large frame fails the connection when the bad byte arrives rather than when the frame is complete
    /// (Autobahn 6.4.3/6.4.4). Bytes checked here are remembered and skipped once the frame is complete,
    /// so each byte is validated once however the frame trickles in.
    private func prevalidatePartialTextFrame(in buffer: ByteBuffer) throws(WebSocketProtocolError) {
        guard let header = try self.decoder.peekHeader(in: buffer), !header.rsv1 else { return }
        let startsText = header.opcode == .text && self.messageOpcode == nil
        let continuesText = header.opcode == .continuation && self.messageOpcode == .text && !self.messageCompressed
        guard startsText || continuesText else { return }
        let available = min(buffer.readableBytes - header.headerLength, header.payloadLength)
        guard available > self.prevalidatedCount else { return }
        if startsText && self.prevalidatedCount == 0 { self.validator.reset() }

        let from = header.headerLength + self.prevalidatedCount
        let to = header.headerLength + available
        let offset = self.prevalidatedCount
        let valid = buffer.withReadableBytes { raw -> Bool in
            let source = UnsafeRawBufferPointer(rebasing: raw[from..<to])
            guard let key = header.maskingKey else { return self.validator.validate(source) }
            // Unmask through a small stack buffer, a chunk at a time.
            return withUnsafeTemporaryAllocation(byteCount: 4096, alignment: 8) { scratch in
                var index = 0
                while index < source.count {
                    let count = min(scratch.count, source.count - index)
                    let chunk = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<count])
                    key.apply(
                        from: UnsafeRawBufferPointer(rebasing: source[index..<(index + count)]), to: chunk,
                        offset: offset + index)
                    guard self.validator.validate(UnsafeRawBufferPointer(chunk)) else { return false }
                    index += count
                }
                return true
            }
        }
        guard valid else { throw .invalidUTF8 }
        self.prevalidatedCount = available
    }

    /// Adds a data frame to the message in progress; returns the message when the frame finishes it.
    ///
    /// `prevalidated` leading bytes of an uncompressed text frame were already fed to the validator.
    private func append(_ frame: WebSocketFrame, prevalidated: Int) throws(WebSocketProtocolError) -> Event? {
        let isText = self.messageOpcode == .text
        var start = self.messageBytes.count
        if self.messageCompressed {
            // The decoder only allows RSV1 when a decompressor exists.
            guard let decompressor = self.decompressor else { throw .reservedBitsSet(0x4) }
            // withUnsafeBytes is untyped-rethrows, so the typed error travels out in a Result.
            let limit = self.maxMessageSize
            var bytes = self.messageBytes
            self.messageBytes = []
            let result = frame.payload.withUnsafeBytes { raw in
                Result { () throws(WebSocketProtocolError) in
                    try decompressor.decompress(raw, isFinal: frame.fin, into: &bytes, limit: limit)
                }
            }
            self.messageBytes = bytes
            try result.get()
        } else {
            guard frame.payload.count <= self.maxMessageSize - self.messageBytes.count else {
                throw .messageTooBig(limit: self.maxMessageSize)
            }
            self.messageBytes.append(contentsOf: frame.payload)
            start += prevalidated
        }
        // Validate only the new bytes, so a bad sequence fails on the fragment that contains it.
        if isText {
            let valid = self.messageBytes.withUnsafeBytes { raw in
                self.validator.validate(UnsafeRawBufferPointer(rebasing: raw[start...]))
            }
            guard valid else { throw .invalidUTF8 }
        }
        guard frame.fin else { return nil }
        if isText && !self.validator.isComplete { throw .invalidUTF8 }

        let message = self.messageBytes
        self.messageBytes = []
        self.messageOpcode = nil
        self.messageCompressed = false
        return isText ? .text(message) : .binary(message)
    }

    /// Checks a close frame's payload (RFC 6455 §5.5.1, §7.4): empty, or a valid code plus UTF-8 reason.
    static func parseClose(_ payload: [UInt8]) throws(WebSocketProtocolError) -> Event {
        guard payload.count >= 2 else {
            guard payload.isEmpty else { throw .invalidClosePayloadLength }
            return .close(code: nil, reason: "")
        }
        let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
        guard WebSocketCloseCode.isValidInCloseFrame(code) else { throw .invalidCloseCode(code) }
        let reason = payload[2...]
        guard UTF8Validator.isValid(reason) else { throw .invalidCloseReason }
        return .close(code: code, reason: String(decoding: reason, as: UTF8.self))
    }
}
