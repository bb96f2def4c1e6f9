import FuzzSupport
import HTTPKit

/// The permessage-deflate inflater on arbitrary compressed data: it never returns more than its limit, inflating a
/// message frame by frame gives the same bytes as inflating it whole (when both succeed), and our own deflater's output of the input
/// inflates back to the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInflate(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let (control, input) = splitControl(fuzzBytes(data, size))
    let limit = Int(control & 0x3F) * 64
    let windowBits = 8 + Int(control >> 6) * 2 + 1  // 9, 11, 13, 15

    let whole = try? PerMessageDeflateDecompressor(windowBits: windowBits).decompress(input, limit: limit)
    if let whole { require(whole.count <= limit, "\(whole.count) bytes inflated, limit \(limit)") }

    // The same message as frames of 7 bytes.
    let framed = PerMessageDeflateDecompressor(windowBits: windowBits)
    var output: [UInt8] = []
    var framedFailed = false
    let frames = chunks(input, size: 7)
    for (index, frame) in frames.enumerated() {
        do {
            try frame.withUnsafeBytes { raw in
                Result { () throws(WebSocketProtocolError) in
                    try framed.decompress(raw, isFinal: index == frames.count - 1, into: &output, limit: limit)
                }
            }.get()
        } catch {
            framedFailed = true
            break
        }
        require(output.count <= limit, "\(output.count) bytes inflated frame by frame, limit \(limit)")
    }
    // Only when both succeed: a back-reference beyond the negotiated window is caught by zlib only once it
    // reaches past the output of the current inflate call, so the two ways may differ on whether such data fails.
    if let whole, !frames.isEmpty, !framedFailed {
        require(output == whole, "frame by frame: \(output.count) bytes, whole: \(whole.count) bytes")
    }

    // Round trip through our compressor (window 15 both ends, as negotiated without parameters).
    let compressor = PerMessageDeflateCompressor(windowBits: 15)
    guard let compressed = try? compressor.compress(input) else { fatalError("deflate failed on \(input.count) bytes") }
    let inflated = try? PerMessageDeflateDecompressor(windowBits: 15).decompress(compressed, limit: input.count)
    require(inflated == input, "deflate then inflate changed \(input.count) bytes")
    return 0
}

@main
enum FuzzInflateMain {
    static func main() { runFuzzer(fuzzInflate) }
}
