import EngineIO
import FuzzSupport

/// Engine.IO v4: a packet read from a WebSocket text frame, and a polling payload, encode back to bytes that
/// decode to the same packets.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEngineIO(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzBytes(data, size)

    if let packet = try? EnginePacketCodec.decode(text: bytes) {
        let frame = EnginePacketCodec.encode(packet)
        guard let again = try? EnginePacketCodec.decode(frame) else { fatalError("encoded packet \(packet) does not decode") }
        require(again == packet, "packet \(packet) came back as \(again)")
        var written: [UInt8] = []
        _ = EnginePacketCodec.write(packet, into: &written)
        require(written.count == EnginePacketCodec.encodedLength(of: packet), "encodedLength is not the written length")
    }
    let binary = EnginePacketCodec.decode(binary: bytes)
    require(binary.data == bytes, "a binary frame's bytes changed")

    if let packets = try? EnginePayloadCodec.decode(bytes) {
        let body = EnginePayloadCodec.encode(packets)
        require(body.count == EnginePayloadCodec.encodedLength(of: packets), "payload encodedLength is not its length")
        guard let again = try? EnginePayloadCodec.decode(body) else { fatalError("encoded payload of \(packets) does not decode") }
        require(again == packets, "payload \(packets) came back as \(again)")
    }
    return 0
}

@main
enum FuzzEngineIOMain {
    static func main() { runFuzzer(fuzzEngineIO) }
}
