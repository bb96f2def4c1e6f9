import FuzzJSONEquivalence
import FuzzSupport
import SocketIO

/// Feeds a text message and then binary messages to a fresh decoder (admitting at most `maxAttachments`);
/// returns the packets it completed.
func decode(text: [UInt8], binaries: [[UInt8]], maxAttachments: Int = 10) -> [SocketPacket]? {
    var decoder = SocketPacketDecoder(maxAttachments: maxAttachments)
    var packets: [SocketPacket] = []
    do {
        if case .packet(let packet) = try decoder.decode(text: text) { packets.append(packet) }
        for binary in binaries {
            if case .packet(let packet) = try decoder.decode(binary: binary) { packets.append(packet) }
        }
    } catch {
        return nil
    }
    return packets
}

/// Payloads compare as JSON text carries them (see `equivalent`); a missing payload only matches a missing one.
func equivalentData(_ a: JSONValue?, _ b: JSONValue?) -> Bool {
    switch (a, b) {
    case (nil, nil): return true
    case let (a?, b?): return equivalent(asSerialized(a), asSerialized(b))
    default: return false
    }
}

/// The Socket.IO v5 decoder with binary reassembly. The input is messages separated by 0xFF: the first is the
/// text message, the rest are binary attachments. A completed packet encodes to a text message and attachments
/// that decode to the same packet.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSocketIO(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let messages = fuzzBytes(data, size).split(separator: 0xFF, omittingEmptySubsequences: false).map { Array($0) }
    guard let text = messages.first, let packets = decode(text: text, binaries: Array(messages.dropFirst())) else { return 0 }
    for packet in packets {
        // A number beyond a double (infinity) is written `null`, as JSON.stringify writes it; as an event name
        // that no longer decodes (the reference behaves the same), so such packets have no round trip to check.
        if let data = packet.data, asSerialized(data) != data { continue }
        guard let encoded = try? SocketPacketEncoder().encode(packet) else { fatalError("decoded packet \(packet) does not encode") }
        // A placeholder may name one attachment several times; the encoder writes each occurrence out, so the
        // packet can come back with more attachments than the 10 the first decoder admitted.
        let admitted = max(10, encoded.attachments.count)
        guard let again = decode(text: encoded.text, binaries: encoded.attachments, maxAttachments: admitted),
              again.count == 1 else {
            fatalError("encoded \(packet) as \(encoded.textString) + \(encoded.attachments.count) attachments, which do not decode")
        }
        // `attachments` is the count the header announced; the encoder counts the binaries the data holds,
        // which is fewer when the sender announced attachments it never referenced (accepted, as the reference does).
        let back = again[0]
        require(back.type == packet.type && back.namespace == packet.namespace && back.id == packet.id && equivalentData(back.data, packet.data),
                "packet \(packet) came back as \(back)")
    }
    return 0
}

@main
enum FuzzSocketIOMain {
    static func main() { runFuzzer(fuzzSocketIO) }
}
