/// Writes commands in RESP (an array of bulk strings), appending straight into an output buffer: no temporary
/// array or string per argument.
public enum RESPEncoder {
    /// Appends `arguments` as one command.
    public static func appendCommand(_ arguments: [RedisArgument], into out: inout [UInt8]) {
        self.appendHeader(UInt8(ascii: "*"), arguments.count, into: &out)
        for argument in arguments { self.appendArgument(argument, into: &out) }
    }

    /// Appends `PUBLISH channel payload`: the adapter's hot path, without building an argument array.
    public static func appendPublish(channel: String, payload: [UInt8], into out: inout [UInt8]) {
        out.append(contentsOf: Self.publishPrefix)
        self.appendBulk(text: channel, into: &out)
        self.appendBulk(bytes: payload, into: &out)
    }

    /// `*3\r\n$7\r\nPUBLISH\r\n`
    private static let publishPrefix: [UInt8] = Array("*3\r\n$7\r\nPUBLISH\r\n".utf8)

    /// Appends one argument as a bulk string.
    public static func appendArgument(_ argument: RedisArgument, into out: inout [UInt8]) {
        switch argument.storage {
        case .bytes(let bytes): self.appendBulk(bytes: bytes, into: &out)
        case .text(let text): self.appendBulk(text: text, into: &out)
        case .integer(let number):
            self.appendHeader(UInt8(ascii: "$"), Self.decimalLength(number), into: &out)
            self.appendDecimal(number, into: &out)
            out.append(13); out.append(10)
        }
    }

    /// Appends `bytes` as a bulk string.
    public static func appendBulk(bytes: [UInt8], into out: inout [UInt8]) {
        self.appendHeader(UInt8(ascii: "$"), bytes.count, into: &out)
        out.append(contentsOf: bytes)
        out.append(13); out.append(10)
    }

    /// Appends `text` (UTF-8) as a bulk string.
    public static func appendBulk(text: String, into out: inout [UInt8]) {
        var text = text
        text.withUTF8 { utf8 in
            self.appendHeader(UInt8(ascii: "$"), utf8.count, into: &out)
            out.append(contentsOf: utf8)
        }
        out.append(13); out.append(10)
    }

    /// Appends a type byte, a decimal count and CRLF (`*3\r\n`, `$5\r\n`).
    static func appendHeader(_ type: UInt8, _ count: Int, into out: inout [UInt8]) {
        out.append(type)
        self.appendDecimal(count, into: &out)
        out.append(13); out.append(10)
    }

    /// Appends `number` in decimal ASCII. Lengths and counts are almost always below 10,000: those are
    /// written digit by digit without a reversal.
    static func appendDecimal(_ number: Int, into out: inout [UInt8]) {
        switch number {
        case 0..<10:
            out.append(UInt8(truncatingIfNeeded: number) &+ 48)
        case 10..<100:
            out.append(UInt8(truncatingIfNeeded: number / 10) &+ 48)
            out.append(UInt8(truncatingIfNeeded: number % 10) &+ 48)
        case 100..<1000:
            out.append(UInt8(truncatingIfNeeded: number / 100) &+ 48)
            out.append(UInt8(truncatingIfNeeded: number / 10 % 10) &+ 48)
            out.append(UInt8(truncatingIfNeeded: number % 10) &+ 48)
        case 1000..<10000:
            out.append(UInt8(truncatingIfNeeded: number / 1000) &+ 48)
            out.append(UInt8(truncatingIfNeeded: number / 100 % 10) &+ 48)
            out.append(UInt8(truncatingIfNeeded: number / 10 % 10) &+ 48)
            out.append(UInt8(truncatingIfNeeded: number % 10) &+ 48)
        default:
            if number < 0 { out.append(UInt8(ascii: "-")) }
            var magnitude = number.magnitude
            let start = out.count
            while magnitude > 0 {
                out.append(UInt8(truncatingIfNeeded: magnitude % 10) &+ 48)
                magnitude /= 10
            }
            out[start...].reverse()
        }
    }

    /// The number of characters `appendDecimal` writes for `number`.
    static func decimalLength(_ number: Int) -> Int {
        var magnitude = number.magnitude
        var length = number < 0 ? 2 : 1
        while magnitude >= 10 {
            magnitude /= 10
            length += 1
        }
        return length
    }
}
