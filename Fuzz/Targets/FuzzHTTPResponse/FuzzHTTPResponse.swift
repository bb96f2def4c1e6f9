import FuzzSupport
import HTTPKit
import Transport

/// Small limits, so that the fuzzer reaches every limit check.
let limits = HTTPClientLimits(maxHeaderBytes: 1024, maxHeaderCount: 16, maxBodySize: 2048)

/// Parses `pieces` arriving one after another, then the end of the stream; returns the responses as text and
/// whether the parser failed.
func parse(_ pieces: [ArraySlice<UInt8>], isHeadRequest: Bool) -> (responses: [String], failed: Bool) {
    var parser = HTTPResponseParser(limits: limits)
    var buffer = ByteBuffer()
    var responses: [String] = []
    func record(_ response: HTTPClientResponse) {
        require(response.headers.count <= limits.maxHeaderCount, "\(response.headers.count) header fields")
        require(response.body.count <= limits.maxBodySize, "body of \(response.body.count) bytes")
        let fields = response.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
        responses.append("\(response.status) \(response.reason) 1.\(response.versionMinor) \(response.keepAlive)\n\(fields)\n\(response.body)")
    }
    do {
        for piece in pieces {
            buffer.append(contentsOf: piece)
            while let response = try parser.parse(&buffer, isHeadRequest: isHeadRequest) { record(response) }
        }
        if let last = try parser.finish() { record(last) }
    } catch {
        return (responses, true)
    }
    return (responses, false)
}

/// The client's response parser: limits hold, and a stream gives the same responses whether it arrives at once
/// or in pieces of any size.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPResponse(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let (control, input) = splitControl(fuzzBytes(data, size))
    let isHead = control & 0x80 != 0
    let whole = parse([input[...]], isHeadRequest: isHead)
    let pieces = parse(chunks(input, size: Int(control % 64) + 1), isHeadRequest: isHead)
    require(whole.responses == pieces.responses && whole.failed == pieces.failed, "whole: \(whole), in pieces: \(pieces)")
    return 0
}

@main
enum FuzzHTTPResponseMain {
    static func main() { runFuzzer(fuzzHTTPResponse) }
}
