import CZlib

/// Compresses outgoing messages for permessage-deflate (RFC 7692 §7.2.1).
///
/// Each message is raw-deflated and flushed with Z_SYNC_FLUSH, which ends the output on a byte boundary
/// with the empty stored block `00 00 ff ff`; those four bytes are removed before sending, as the RFC
/// requires (the receiver puts them back). With context takeover the deflate stream carries its window
/// from one message to the next; without it the stream is reset after every message.
///
/// Owns a zlib stream (allocated on first use, freed in `deinit`), so it is a class. It is not
/// thread-safe: it is `@unchecked Sendable` only so that it can be handed to the one task or thread that
/// owns the connection; it must never be used from two places at once.
public final class PerMessageDeflateCompressor: @unchecked Sendable {
    /// The LZ77 window size negotiated for this direction (8...15).
    public let windowBits: Int
    /// Whether the context is reset after every message.
    public let noContextTakeover: Bool
    /// zlib compression level (-1 or 0...9).
    public let level: Int32
    /// zlib memLevel (1...9).
    public let memoryLevel: Int32

    /// The zlib stream; heap-allocated because zlib keeps a pointer back to it and it must not move.
    private var stream: UnsafeMutablePointer<z_stream>?

    /// Creates a compressor. No zlib memory is allocated until the first message.
    public init(windowBits: Int = 15, noContextTakeover: Bool = false, level: Int32 = -1, memoryLevel: Int32 = 8) {
        self.windowBits = PerMessageDeflate.clampWindowBits(windowBits)
        self.noContextTakeover = noContextTakeover
        self.level = min(9, max(-1, level))
        self.memoryLevel = min(9, max(1, memoryLevel))
    }

    deinit {
        self.releaseStream()
    }

    /// Compresses one whole message and returns the frame payload to send with RSV1 set.
    public func compress(_ message: some Collection<UInt8>) throws(WebSocketProtocolError) -> [UInt8] {
        var output: [UInt8] = []
        try self.compress(message, appendingTo: &output)
        return output
    }

    /// Compresses one whole message, appending the compressed payload to `output`.
    public func compress(
        _ message: some Collection<UInt8>, appendingTo output: inout [UInt8]
    ) throws(WebSocketProtocolError) {
        let result: Result<Void, WebSocketProtocolError>? = message.withContiguousStorageIfAvailable { buffer in
            Result { () throws(WebSocketProtocolError) in
                try self.compress(UnsafeRawBufferPointer(buffer), appendingTo: &output)
            }
        }
        if let result {
            try result.get()
        } else {
            let copy = Array(message)
            // withUnsafeBytes is untyped-rethrows, so the typed error travels out in a Result.
            try copy.withUnsafeBytes { raw in
                Result { () throws(WebSocketProtocolError) in try self.compress(raw, appendingTo: &output) }
            }.get()
        }
    }

    /// Compresses a message held in raw memory, appending the compressed payload to `output`.
    ///
    /// A message may be given in several parts (say, a one-byte packet type and then the body) without
    /// joining them first: pass `isFinal: false` for every part but the last, always with the same
    /// `output`. Parts before the last may produce no output at all, since zlib buffers input until it
    /// has enough to emit a block; the last part flushes everything.
    public func compress(
        _ message: UnsafeRawBufferPointer, isFinal: Bool = true, appendingTo output: inout [UInt8]
    ) throws(WebSocketProtocolError) {
        let stream = try self.readyStream()
        let start = output.count
        var produced = 0
        // A mutable pointer is what zlib's non-const next_in wants; zlib never writes through it.
        stream.pointee.next_in = UnsafeMutablePointer(
            mutating: message.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = 0
        var remainingInput = message.count
        var guess = Int(deflateBound(stream, uLong(min(message.count, Int(UInt32.max))))) + 16
        while true {
            // Feed input in pieces zlib's 32-bit counters can express.
            if stream.pointee.avail_in == 0 && remainingInput > 0 {
                let piece = min(remainingInput, Int(UInt32.max))
                stream.pointee.avail_in = uInt(piece)
                remainingInput -= piece
            }
            if output.count - start - produced < guess {
                output.append(contentsOf: repeatElement(0, count: guess))
            }
            let room = min(output.count - start - produced, Int(UInt32.max))
            let flush = isFinal && remainingInput == 0 ? Z_SYNC_FLUSH : Z_NO_FLUSH
            let status = output.withUnsafeMutableBytes { raw -> Int32 in
                let base = raw.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.pointee.next_out = base.map { $0 + start + produced }
                stream.pointee.avail_out = uInt(room)
                let status = deflate(stream, flush)
                produced += room - Int(stream.pointee.avail_out)
                return status
            }
            guard status == Z_OK || status == Z_BUF_ERROR else {
                output.removeSubrange(start...)
                self.releaseStream()
                throw .compressionFailure
            }
            // Done when all input is consumed and zlib left output space unused (so any flush fitted).
            if remainingInput == 0 && stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 {
                break
            }
            guess = max(guess, 4096)
        }
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
        output.removeSubrange((start + produced)...)
        guard isFinal else { return }

        // Z_SYNC_FLUSH always ends with the empty stored block 00 00 ff ff; RFC 7692 §7.2.1 drops it.
        if produced >= 4 && output[(output.count - 4)...].elementsEqual([0x00, 0x00, 0xFF, 0xFF]) {
            output.removeLast(4)
        }
        if self.noContextTakeover {
            deflateReset(stream)
        }
    }

    /// Returns the stream, creating it on first use.
    private func readyStream() throws(WebSocketProtocolError) -> UnsafeMutablePointer<z_stream> {
        if let stream = self.stream { return stream }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // zlib refuses windowBits 8 for raw deflate; 9 is safe to use when 8 was negotiated because zlib
        // never emits a distance beyond window size - 262, i.e. 250 < 256 for a 512-byte window.
        let bits = Int32(max(9, self.windowBits))
        let status = deflateInit2_(
            stream, self.level, Z_DEFLATED, -bits, self.memoryLevel, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
            Int32(MemoryLayout<z_stream>.size))
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
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        self.stream = nil
    }
}
