import CZlib

/// Inflates incoming permessage-deflate messages (RFC 7692 §7.2.2), frame by frame, with a cap on the
/// output size.
///
/// The sender stripped the trailing `00 00 ff ff` of each message's sync flush; the decompressor inflates
/// each frame's payload as it arrives and appends those four bytes after the final frame. Because a few
/// kilobytes can inflate to gigabytes, output is produced only up to a limit; one byte beyond it fails
/// with 1009 (`messageTooBig`) without ever holding more.
///
/// Owns a zlib stream (allocated on first use, freed in `deinit`), so it is a class. It is not
/// thread-safe: it is `@unchecked Sendable` only so that it can be handed to the one task or thread that
/// owns the connection; it must never be used from two places at once.
public final class PerMessageDeflateDecompressor: @unchecked Sendable {
    /// The LZ77 window size negotiated for the peer's direction (8...15).
    public let windowBits: Int
    /// Whether the peer resets its context after every message (so this side resets too).
    public let noContextTakeover: Bool

    /// The zlib stream; heap-allocated because zlib keeps a pointer back to it and it must not move.
    private var stream: UnsafeMutablePointer<z_stream>?
    /// The peer ended its deflate stream (a block with BFINAL set) inside the current message; the rest
    /// of the message is ignored and the stream restarts with the next one.
    private var streamEnded = false

    /// The bytes RFC 7692 §7.2.2 appends to a message before inflating it.
    private static let tail: [UInt8] = [0x00, 0x00, 0xFF, 0xFF]

    /// Creates a decompressor. No zlib memory is allocated until the first compressed message.
    public init(windowBits: Int = 15, noContextTakeover: Bool = false) {
        self.windowBits = PerMessageDeflate.clampWindowBits(windowBits)
        self.noContextTakeover = noContextTakeover
    }

    deinit {
        self.releaseStream()
    }

    /// Inflates a whole compressed message (the payload of all its frames, concatenated).
    ///
    /// - Parameter limit: the largest decompressed size accepted.
    public func decompress(_ message: some Collection<UInt8>, limit: Int) throws(WebSocketProtocolError) -> [UInt8] {
        var output: [UInt8] = []
        let bytes = Array(message)
        // withUnsafeBytes is untyped-rethrows, so the typed error travels out in a Result.
        try bytes.withUnsafeBytes { raw in
            Result { () throws(WebSocketProtocolError) in
                try self.decompress(raw, isFinal: true, into: &output, limit: limit)
            }
        }.get()
        return output
    }

    /// Inflates the payload of one frame of a compressed message, appending to `output`.
    ///
    /// - Parameters:
    ///   - input: the frame's payload.
    ///   - isFinal: true for the message's last frame: the stripped tail is restored and, without context
    ///     takeover, the stream is reset for the next message.
    ///   - output: where decompressed bytes are appended (typically the message assembled so far).
    ///   - limit: the largest `output.count` allowed; exceeding it throws `messageTooBig`.
    /// - Throws: `messageTooBig`, `invalidCompressedData` for a corrupt stream, `compressionFailure` if zlib
    ///   cannot allocate. After an error the connection must be failed; the decompressor is not reusable.
    public func decompress(
        _ input: UnsafeRawBufferPointer, isFinal: Bool, into output: inout [UInt8], limit: Int
    ) throws(WebSocketProtocolError) {
        let stream = try self.readyStream()
        if !self.streamEnded {
            try self.inflate(input, stream: stream, into: &output, limit: limit)
            if isFinal && !self.streamEnded {
                try Self.tail.withUnsafeBytes { tail in
                    Result { () throws(WebSocketProtocolError) in
                        try self.inflate(tail, stream: stream, into: &output, limit: limit)
                    }
                }.get()
            }
        }
        if isFinal && (self.noContextTakeover || self.streamEnded) {
            inflateReset(stream)
            self.streamEnded = false
        }
    }

    /// Runs inflate over all of `input`, growing `output` in steps but never past `limit + 1` bytes.
    private func inflate(
        _ input: UnsafeRawBufferPointer, stream: UnsafeMutablePointer<z_stream>, into output: inout [UInt8],
        limit: Int
    ) throws(WebSocketProtocolError) {
        guard input.count > 0 else { return }
        var remainingInput = input.count
        stream.pointee.next_in = UnsafeMutablePointer(
            mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = 0
        defer {
            stream.pointee.next_in = nil
            stream.pointee.next_out = nil
        }
        // Decompressed data is usually a few times larger than its input; start there and grow.
        var step = min(max(input.count * 4, 1024), 256 * 1024)
        while true {
            if stream.pointee.avail_in == 0 && remainingInput > 0 {
                let piece = min(remainingInput, Int(UInt32.max))
                stream.pointee.avail_in = uInt(piece)
                remainingInput -= piece
            }
            // One byte of room past the limit is enough to detect that the message is too big.
            let remaining = limit - output.count
            guard remaining >= 0 else { throw .messageTooBig(limit: limit) }
            let room = remaining >= step ? step : remaining + 1
            let start = output.count
            output.append(contentsOf: repeatElement(0, count: room))
            let status = output.withUnsafeMutableBytes { raw -> Int32 in
                let base = raw.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.pointee.next_out = base.map { $0 + start }
                stream.pointee.avail_out = uInt(room)
                return CZlib.inflate(stream, Z_SYNC_FLUSH)
            }
            let unused = Int(stream.pointee.avail_out)
            output.removeLast(unused)
            if output.count > limit {
                throw .messageTooBig(limit: limit)
            }
            switch status {
            case Z_OK:
                break
            case Z_BUF_ERROR:
                // No progress possible: all input consumed, nothing more to write.
                if stream.pointee.avail_in == 0 && remainingInput == 0 { return }
            case Z_STREAM_END:
                self.streamEnded = true
                return
            case Z_DATA_ERROR, Z_NEED_DICT:
                throw .invalidCompressedData
            default:
                throw .compressionFailure
            }
            // Finished once all input is in and zlib stopped short of filling the output.
            if stream.pointee.avail_in == 0 && remainingInput == 0 && unused > 0 { return }
            step = min(step * 2, 1024 * 1024)
        }
    }

    /// Returns the stream, creating it on first use.
    private func readyStream() throws(WebSocketProtocolError) -> UnsafeMutablePointer<z_stream> {
        if let stream = self.stream { return stream }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // A window at least as large as the sender's is always safe; 9 covers peers that, like zlib,
        // compress with 9 bits after negotiating 8.
        let bits = Int32(max(9, self.windowBits))
        let status = inflateInit2_(stream, -bits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw .compressionFailure
        }
        self.stream = stream
        return stream
    }

    private func releaseStream() {
        guard let stream = self.stream else { return }
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        self.stream = nil
    }
}
