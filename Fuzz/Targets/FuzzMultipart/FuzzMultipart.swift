import FuzzSupport
import HTTPKit

/// Small limits, so that the fuzzer reaches every limit check.
let limits = MultipartLimits(maxPartHeaderBytes: 512, maxParts: 8)

/// Parses a multipart body (boundary `fuzz`) fed in `pieces`; returns its parts as text and whether it failed.
func parse(_ pieces: [ArraySlice<UInt8>]) -> (parts: [String], failed: Bool) {
    guard var parser = try? MultipartParser(contentType: "multipart/form-data; boundary=fuzz", limits: limits) else {
        fatalError("the boundary `fuzz` is refused")
    }
    var parts: [String] = []
    var current: [UInt8] = []
    var open = false
    var begun = 0
    do {
        for piece in pieces {
            for event in try parser.feed(piece) {
                switch event {
                case .partBegin(let head):
                    require(!open, "a part begins inside another")
                    open = true
                    let fields = head.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
                    parts.append("\(head.name ?? "-") \(head.filename ?? "-")\n\(fields)")
                    begun += 1
                    require(begun <= limits.maxParts, "\(begun) parts")
                case .data(let bytes):
                    require(open, "data outside a part")
                    current += bytes
                case .partEnd:
                    require(open, "a part ends that never began")
                    open = false
                    parts.append("data \(current)")
                    current = []
                }
            }
        }
        try parser.finish()
        require(parser.isComplete && !open, "finish accepted an unfinished body")
    } catch {
        return (parts, true)
    }
    return (parts, false)
}

/// The multipart parser: limits hold, events nest, and a body gives the same parts (or fails) whether it arrives at once or
/// in pieces of any size.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMultipart(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let (control, input) = splitControl(fuzzBytes(data, size))
    let whole = parse([input[...]])
    let pieces = parse(chunks(input, size: Int(control % 64) + 1))
    // A failing feed returns no events, so the parts seen before a failure depend on the pieces: compare the rest.
    require(whole.failed == pieces.failed, "whole: \(whole), in pieces: \(pieces)")
    if !whole.failed { require(whole.parts == pieces.parts, "whole: \(whole), in pieces: \(pieces)") }
    return 0
}

@main
enum FuzzMultipartMain {
    static func main() { runFuzzer(fuzzMultipart) }
}
