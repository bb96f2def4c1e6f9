import FuzzSupport
import HTTPKit
import Transport

/// Small, so that the fuzzer reaches the message limit, before and after inflating.
let maxMessageSize = 4096

/// Reads frames fed in `pieces` through a message assembler; returns its events and whether it failed.
func assemble(_ pieces: [ArraySlice<UInt8>], role: WebSocketRole, deflate: PerMessageDeflateParameters?)
    -> (events: [WebSocketMessageAssembler.Event], failed: Bool)
{
    let assembler = WebSocketMessageAssembler(role: role, maxMessageSize: maxMessageSize, permessageDeflate: deflate)
    var buffer = ByteBuffer()
    var events: [WebSocketMessageAssembler.Event] = []
    do {
        for piece in pieces {
            buffer.append(contentsOf: piece)
            while let event = try assembler.next(from: &buffer) {
                switch event {
                case .text(let bytes):
                    require(bytes.count <= maxMessageSize, "text message of \(bytes.count) bytes")
                    require(String(validating: bytes, as: UTF8.self) != nil, "text message that is not UTF-8")
                case .binary(let bytes):
                    require(bytes.count <= maxMessageSize, "binary message of \(bytes.count) bytes")
                case .ping(let bytes), .pong(let bytes):
                    require(bytes.count <= 125, "control frame of \(bytes.count) bytes")
                case .close(let code, let reason):
                    require(reason.utf8.count <= 123, "close reason of \(reason.utf8.count) bytes")
                    if let code { require(code >= 1000, "close code \(code)") }
                }
                events.append(event)
            }
        }
    } catch {
        return (events, true)
    }
    return (events, false)
}

/// The WebSocket frame decoder and message assembler, with and without permessage-deflate: messages stay within
/// the limit, text is UTF-8, and the frames give the same events whether they arrive at once or in pieces.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebSocket(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let (control, input) = splitControl(fuzzBytes(data, size))
    let role: WebSocketRole = control & 0x80 != 0 ? .client : .server
    let deflate: PerMessageDeflateParameters? = control & 0x40 != 0
        ? PerMessageDeflateParameters(serverNoContextTakeover: control & 0x20 != 0, clientNoContextTakeover: control & 0x20 != 0)
        : nil
    let chunkSize = Int(control % 32) + 1
    let whole = assemble([input[...]], role: role, deflate: deflate)
    let pieces = assemble(chunks(input, size: chunkSize), role: role, deflate: deflate)
    require(whole.events == pieces.events && whole.failed == pieces.failed,
            "whole: \(whole), in pieces of \(chunkSize): \(pieces)")
    return 0
}

@main
enum FuzzWebSocketMain {
    static func main() { runFuzzer(fuzzWebSocket) }
}
