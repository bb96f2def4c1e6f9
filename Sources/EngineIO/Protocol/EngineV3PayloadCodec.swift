import HTTPKit
import Transport

/// Engine.IO v3 packets and polling payloads (the protocol of Socket.IO v2 clients).
///
/// A v3 payload comes in two forms:
/// - text: each packet as `<length>:<packet>`, the length counted in UTF-16 code units (JavaScript's
///   `string.length`), binary packets as `b4<base64>`;
/// - binary: each packet as a kind byte (`0x00` text, `0x01` binary), the decimal digits of its length in
///   bytes as byte values 0–9, `0xFF`, then the packet (text: `<digit><UTF-8>`; binary: the byte `0x04`
///   followed by the data).
///
/// Clients that can take binary bodies (python-engineio 3, the JS v2 client without `b64=1`) POST either
/// form; `decode` tells them apart by the first byte, which is a digit in the text form.
public enum EngineV3PayloadCodec {
    /// The marker of a binary packet in the text form: `b` followed by the type digit `4`.
    static let base64Prefix: [UInt8] = [UInt8(ascii: "b"), UInt8(ascii: "4")]
    private static let separator = UInt8(ascii: ":")

    // MARK: - Encoding

    /// The text form of `packets` (what a client without binary support, or asking for `b64=1`, gets).
    public static func encodeText(_ packets: [EnginePacket]) -> [UInt8] {
        var body: [UInt8] = []
        for packet in packets {
            switch packet.payload {
            case .text(let bytes):
                body.append(contentsOf: String(1 + utf16Length(of: bytes)).utf8)
                body.append(self.separator)
                body.append(packet.type.asciiDigit)
                body.append(contentsOf: bytes)
            case .binary(let bytes):
                let encoded = Base64.encode(bytes)
                body.append(contentsOf: String(self.base64Prefix.count + encoded.count).utf8)
                body.append(self.separator)
                body.append(contentsOf: self.base64Prefix)
                body.append(contentsOf: encoded)
            }
        }
        return body
    }

    /// The binary form of `packets`, whose lengths are byte counts.
    public static func encodeBinary(_ packets: [EnginePacket]) -> [UInt8] {
        var body: [UInt8] = []
        for packet in packets {
            body.append(packet.isBinary ? 0x01 : 0x00)
            for digit in String(1 + packet.data.count).utf8 { body.append(digit - UInt8(ascii: "0")) }
            body.append(0xFF)
            body.append(packet.isBinary ? packet.type.rawValue : packet.type.asciiDigit)
            body.append(contentsOf: packet.data)
        }
        return body
    }

    /// Whether any text packet holds a byte above ASCII, where UTF-16, code-point and byte counts differ.
    public static func holdsNonASCIIText(_ packets: [EnginePacket]) -> Bool {
        packets.contains { !$0.isBinary && $0.data.contains { $0 >= 0x80 } }
    }

    /// The payload as a JSONP script, as Node writes it: `___eio[<index>]("<payload as a JSON string>");`
    /// with U+2028 and U+2029 escaped too, since JavaScript string literals cannot hold them raw.
    public static func jsonp(_ payload: [UInt8], index: String) -> [UInt8] {
        var quoted: [UInt8] = []
        JSONStringEscaping.appendQuoted(bytes: payload, to: &quoted)
        var out = Array("___eio[\(index)](".utf8)
        out.reserveCapacity(out.count + quoted.count + 2)
        var i = 0
        while i < quoted.count {
            if quoted[i] == 0xE2, i + 2 < quoted.count, quoted[i + 1] == 0x80, quoted[i + 2] == 0xA8 || quoted[i + 2] == 0xA9 {
                out.append(contentsOf: (quoted[i + 2] == 0xA8 ? "\\u2028" : "\\u2029").utf8)
                i += 3
                continue
            }
            out.append(quoted[i])
            i += 1
        }
        out.append(contentsOf: ");".utf8)
        return out
    }

    /// The digits of a JSONP `j` parameter, as Node keeps them (every other character dropped).
    public static func jsonpIndex(_ raw: String) -> String {
        String(raw.unicodeScalars.filter { $0 >= "0" && $0 <= "9" }.map(Character.init))
    }

    // MARK: - Decoding

    /// Decodes a POST body in either form.
    public static func decode(_ body: [UInt8]) throws(EngineProtocolError) -> [EnginePacket] {
        guard let first = body.first else { throw .emptyPayload }
        return first <= 0x01 ? try self.decodeBinary(body) : try self.decodeText(body)
    }

    /// Decodes the text form: lengths in UTF-16 code units.
    public static func decodeText(_ body: [UInt8]) throws(EngineProtocolError) -> [EnginePacket] {
        guard !body.isEmpty else { throw .emptyPayload }
        guard UTF8Validator.isValid(body) else { throw .invalidUTF8 }
        var packets: [EnginePacket] = []
        var i = 0
        while i < body.count {
            var length = 0
            var digits = 0
            while i < body.count, body[i] != self.separator {
                let byte = body[i]
                // 10 digits already exceed any body we accept: no overflow, no endless prefix.
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 10 else { throw .invalidLength }
                length = length * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
                i += 1
            }
            guard i < body.count, digits > 0, length > 0 else { throw .invalidLength }
            i += 1
            let start = i
            var units = 0
            while units < length, i < body.count {
                let byte = body[i]
                let width = byte < 0x80 ? 1 : byte < 0xE0 ? 2 : byte < 0xF0 ? 3 : 4
                units += width == 4 ? 2 : 1
                i += width
            }
            guard units == length, i <= body.count else { throw .invalidLength }
            packets.append(try self.decodePacket(body[start..<i]))
        }
        return packets
    }

    /// Decodes the binary form: lengths in bytes.
    public static func decodeBinary(_ body: [UInt8]) throws(EngineProtocolError) -> [EnginePacket] {
        guard !body.isEmpty else { throw .emptyPayload }
        var packets: [EnginePacket] = []
        var i = 0
        while i < body.count {
            let isBinary = body[i] == 0x01
            guard body[i] <= 0x01 else { throw .invalidLength }
            i += 1
            var length = 0
            var digits = 0
            while i < body.count, body[i] != 0xFF {
                guard body[i] <= 9, digits < 10 else { throw .invalidLength }
                length = length * 10 + Int(body[i])
                digits += 1
                i += 1
            }
            guard i < body.count, digits > 0, length > 0, body.count - (i + 1) >= length else { throw .invalidLength }
            i += 1
            let packet = body[i..<(i + length)]
            i += length
            if isBinary {
                // The first byte is the packet type as a number; only messages carry binary data.
                guard packet.first == EnginePacketType.message.rawValue else { throw .unknownPacketType(packet.first ?? 0) }
                packets.append(EnginePacket(binaryMessage: Array(packet.dropFirst())))
            } else {
                guard UTF8Validator.isValid(packet) else { throw .invalidUTF8 }
                packets.append(try self.decodePacket(packet))
            }
        }
        return packets
    }

    /// Decodes one text-form packet: `<digit><text>` or `b4<base64>`.
    public static func decodePacket(_ packet: ArraySlice<UInt8>) throws(EngineProtocolError) -> EnginePacket {
        guard let first = packet.first else { throw .emptyPacket }
        if first == EnginePacketCodec.binaryMarker {
            let rest = packet.dropFirst()
            guard rest.first == EnginePacketType.message.asciiDigit else { throw .unknownPacketType(rest.first ?? first) }
            do {
                return EnginePacket(binaryMessage: try Base64.decode(rest.dropFirst()))
            } catch {
                throw .invalidBase64(error)
            }
        }
        guard let type = EnginePacketType(asciiDigit: first) else { throw .unknownPacketType(first) }
        return EnginePacket(type: type, textBytes: Array(packet.dropFirst()))
    }

    /// The UTF-16 length of valid UTF-8 `bytes`: one unit per scalar, two for those above U+FFFF.
    static func utf16Length(of bytes: [UInt8]) -> Int {
        var units = 0
        for byte in bytes where byte & 0xC0 != 0x80 {
            units += byte >= 0xF0 ? 2 : 1
        }
        return units
    }
}

extension EngineV3PayloadCodec {
    /// The text of a JSONP POST: the `d` field of a form body, with the client's newline escapes undone
    /// as Node does (`\n` becomes a newline, `\\n` becomes `\n`).
    public static func jsonpPostData(_ body: [UInt8]) -> [UInt8]? {
        guard let text = URLEncodedForm.parse(body)["d"] else { return nil }
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        let backslash = UInt8(ascii: "\\"), n = UInt8(ascii: "n")
        var i = 0
        while i < bytes.count {
            if bytes[i] == backslash, i + 2 < bytes.count, bytes[i + 1] == backslash, bytes[i + 2] == n {
                out.append(contentsOf: [backslash, n])
                i += 3
            } else if bytes[i] == backslash, i + 1 < bytes.count, bytes[i + 1] == n {
                out.append(0x0A)
                i += 2
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }
}
