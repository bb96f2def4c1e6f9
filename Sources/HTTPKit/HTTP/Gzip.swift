import CZlib

/// A zlib failure; the code is zlib's return value (`Z_MEM_ERROR`, `Z_DATA_ERROR`...).
public struct GzipError: Error, Sendable, Equatable {
    /// zlib's status code, or 0 for a size limit.
    public var code: Int32
    /// What failed.
    public var reason: String
}

/// gzip (RFC 1952) compression through zlib.
public enum Gzip {
    /// windowBits 15 + 16: zlib writes a gzip header and trailer instead of a zlib wrapper.
    private static let gzipWindowBits: Int32 = 31
    /// windowBits 15 + 32: inflate accepts gzip or zlib, detected from the header.
    private static let autoWindowBits: Int32 = 47

    /// Compresses `bytes` into one gzip member at `level` (0–9; 6 is zlib's speed/size balance).
    public static func compress(_ bytes: [UInt8], level: Int32 = 6) throws(GzipError) -> [UInt8] {
        guard bytes.count <= Int(UInt32.max) else { throw GzipError(code: Z_BUF_ERROR, reason: "input too large") }
        var stream = z_stream()
        var status = deflateInit2_(&stream, level, Z_DEFLATED, gzipWindowBits, 8, Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw GzipError(code: status, reason: "deflateInit2 failed") }
        defer { deflateEnd(&stream) }

        // deflateBound is enough for a single Z_FINISH call to finish.
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))))
        var produced = 0
        status = bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                stream.avail_in = uInt(input.count)
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                let result = deflate(&stream, Z_FINISH)
                produced = out.count - Int(stream.avail_out)
                return result
            }
        }
        guard status == Z_STREAM_END else { throw GzipError(code: status, reason: "deflate did not finish") }
        output.removeSubrange(produced...)
        return output
    }

    /// Decompresses gzip (or zlib) data, refusing to produce more than `maxSize` bytes (a zip-bomb guard).
    public static func decompress(_ bytes: [UInt8], maxSize: Int = 64 * 1024 * 1024) throws(GzipError) -> [UInt8] {
        guard bytes.count <= Int(UInt32.max) else { throw GzipError(code: Z_BUF_ERROR, reason: "input too large") }
        var stream = z_stream()
        var status = inflateInit2_(&stream, autoWindowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw GzipError(code: status, reason: "inflateInit2 failed") }
        defer { inflateEnd(&stream) }

        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        status = bytes.withUnsafeBufferPointer { input -> Int32 in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = uInt(input.count)
            while true {
                let (result, produced) = chunk.withUnsafeMutableBufferPointer { out -> (Int32, Int) in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    let result = inflate(&stream, Z_NO_FLUSH)
                    return (result, out.count - Int(stream.avail_out))
                }
                if output.count + produced > maxSize { return Z_BUF_ERROR }
                output.append(contentsOf: chunk[0..<produced])
                if result == Z_STREAM_END { return result }
                guard result == Z_OK else { return result }
                // Z_OK with no progress and no input left means the data was truncated.
                if produced == 0 && stream.avail_in == 0 { return Z_DATA_ERROR }
            }
        }
        guard status == Z_STREAM_END else { throw GzipError(code: status, reason: "inflate failed") }
        return output
    }
}

/// gzip-compresses `bytes` (see `Gzip.compress`).
public func gzip(_ bytes: [UInt8], level: Int32 = 6) throws(GzipError) -> [UInt8] {
    try Gzip.compress(bytes, level: level)
}
