import FuzzSupport
import HTTPKit
import Transport

/// What the request parser made of a byte stream: its events (bodies merged per request) and whether it failed.
struct RequestParse: Equatable {
    var events: [String] = []
    var failed = false
}

/// Small limits, so that the fuzzer reaches every limit check.
let limits = HTTPLimits(maxRequestLineLength: 512, maxHeaderBytes: 1024, maxHeaderCount: 16, maxBodySize: 2048, maxChunkLineLength: 64)

/// Parses `pieces` arriving one after another, checking the limits on every event.
func parse(_ pieces: [ArraySlice<UInt8>]) -> RequestParse {
    var parser = HTTPRequestParser(limits: limits)
    var buffer = ByteBuffer()
    var result = RequestParse()
    var body: [UInt8] = []
    for piece in pieces {
        buffer.append(contentsOf: piece)
        while true {
            let event: HTTPParseEvent?
            do { event = try parser.next(from: &buffer) } catch {
                result.failed = true
                return result
            }
            guard let event else { break }
            switch event {
            case .head(let head):
                require(head.headers.count <= limits.maxHeaderCount, "\(head.headers.count) header fields")
                require(head.target.utf8.count <= limits.maxRequestLineLength, "request target of \(head.target.utf8.count) bytes")
                let fields = head.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
                result.events.append("head \(head.method) \(head.target) \(head.versionMajor).\(head.versionMinor)\n\(fields)")
            case .body(let bytes):
                require(!bytes.isEmpty, "empty body event")
                body += bytes
                require(body.count <= limits.maxBodySize, "body of \(body.count) bytes")
            case .end:
                result.events.append("body \(body)")
                result.events.append("end")
                body = []
            }
        }
    }
    return result
}

/// The HTTP request parser: limits hold, and the bytes give the same requests whether they arrive at once or
/// in pieces of any size.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let (control, input) = splitControl(fuzzBytes(data, size))
    let whole = parse([input[...]])
    let pieces = parse(chunks(input, size: Int(control % 64) + 1))
    require(whole == pieces, "whole: \(whole), in pieces of \(Int(control % 64) + 1): \(pieces)")
    return 0
}

@main
enum FuzzHTTPRequestMain {
    static func main() { runFuzzer(fuzzHTTPRequest) }
}
