import EngineIO
import Glibc
import HTTPKit
import SocketIO

/// The Socket.IO packets of the benchmark app (shared/perf/README.md) and the recognition of the server's
/// answers.
///
/// Every message carries the send time (nanoseconds since the run started) as its first argument and the
/// payload string last: `42["echo",<t>,"xxxx"]`, `42<id>["echo-ack",<t>,"xxxx"]`,
/// `42["broadcast","bench",<t>,<k>,"xxxx"]`, exactly as `sioload` sends them. Our `SocketPacketEncoder`
/// builds each event's template once (`42["echo",` … `,"xxxx"]`); a message is that template with its ack
/// id and timestamp written in, so the hot path costs a few byte copies rather than a generic encoder call.
///
/// Answers are recognised on their bytes when they have the canonical form (compact JSON, main
/// namespace), the hot path; anything else goes through `SocketPacketDecoder` and is judged on its decoded
/// values, so a server that formats JSON differently is still understood. Either way an answer whose
/// payload came back altered is counted as bad.
///
/// One per run, used on the loop thread only.
final class LoadWire {
    /// What an Engine.IO `message` packet from the server turned out to be.
    enum Answer {
        /// `echo` came back: the timestamp it carried, and whether the rest was the payload unchanged.
        case echo(sentAt: UInt64, intact: Bool)
        /// An acknowledgement: its id and, for `echo-ack`, the timestamp (nil when the first argument is
        /// not a number, e.g. the answer to `join`).
        case ack(id: Int, sentAt: UInt64?, intact: Bool)
        /// A `broadcast` delivery: its send time and sequence number.
        case broadcast(sentAt: UInt64, index: Int, intact: Bool)
        /// The namespace connection was accepted.
        case connected
        /// The server refused the namespace (`connect_error`) or ended it (`disconnect`); see `problem`.
        case refused
        /// Something the scenarios do not use (another event); ignored.
        case other
        /// Not a valid Socket.IO packet; see `problem`.
        case malformed
    }

    /// An event's message with its variable parts left out: `4` + `2`, [ack id], `head`, timestamp
    /// [, index], `tail`. The bytes live as long as the `LoadWire` that made the template; the views are
    /// plain pointers, so copying a template on the hot path costs no reference counting.
    struct Template {
        /// `["echo",` — the array up to the first variable argument.
        var head: UnsafeRawBufferPointer
        /// `,"xxxx"]` — the payload argument and the end of the array.
        var tail: UnsafeRawBufferPointer
    }

    let payload: String
    /// Why the last `.refused` or `.malformed` answer was judged so.
    private(set) var problem = ""
    /// `,"<payload>"]`: what follows the timestamp (and, for broadcasts, the index) in every answer.
    private let answerTail: [UInt8]
    private var maskState: UInt64
    /// The memory behind the templates made so far.
    private var templateStorage: [UnsafeMutableRawBufferPointer] = []

    init(payloadBytes: Int) {
        self.payload = String(repeating: "x", count: payloadBytes)
        var tail: [UInt8] = [UInt8(ascii: ",")]
        JSONSerializer.serialize(.string(self.payload), into: &tail)
        tail.append(UInt8(ascii: "]"))
        self.answerTail = tail
        var random = SystemRandomNumberGenerator()
        self.maskState = random.next() | 1
    }

    deinit {
        for storage in self.templateStorage { storage.deallocate() }
    }

    // MARK: Building

    /// The template of event `name` whose variable arguments come first and the payload string last,
    /// made by our encoder from a sample message: `2["<name>",<leading…>0,"xxxx"]` is cut at the `0`.
    func template(event name: String, leadingArguments: [JSONValue] = []) -> Template {
        var arguments: [UInt8] = []
        for argument in leadingArguments {
            JSONSerializer.serialize(argument, into: &arguments)
            arguments.append(UInt8(ascii: ","))
        }
        let cut = arguments.count
        arguments.append(UInt8(ascii: "0"))
        arguments.append(contentsOf: self.answerTail.dropLast())
        // Cannot throw: the main namespace and no ack id.
        let sample = (try? SocketPacketEncoder().encodeEvent(name: name, rawArguments: arguments)) ?? []
        // `2` `["name",` leading… | `0` | `,"xxxx"]`
        let nameEnd = sample.count - arguments.count - 1
        precondition(sample.first == UInt8(ascii: "2") && nameEnd > 1, "unexpected event encoding")
        return Template(head: self.keep(sample[1..<(nameEnd + cut)]), tail: self.keep(sample[(nameEnd + cut + 1)...]))
    }

    /// A copy of `bytes` that lives as long as this wire.
    private func keep(_ bytes: ArraySlice<UInt8>) -> UnsafeRawBufferPointer {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, bytes.count), alignment: 1)
        storage.copyBytes(from: bytes)
        self.templateStorage.append(storage)
        return UnsafeRawBufferPointer(rebasing: storage[0..<bytes.count])
    }

    /// The Engine.IO text packet of `template` with an ack id and numbers filled in: its length, and a
    /// writer that appends exactly that many bytes.
    @inline(__always)
    static func eventLength(_ template: Template, ackID: Int?, numbers: UInt64, _ second: UInt64? = nil) -> Int {
        2 + (ackID.map { decimalLength(UInt64($0)) } ?? 0) + template.head.count + decimalLength(numbers)
            + (second.map { 1 + decimalLength($0) } ?? 0) + template.tail.count
    }

    @inline(__always)
    static func appendEvent(_ template: Template, ackID: Int?, numbers first: UInt64, _ second: UInt64? = nil,
                            to out: inout [UInt8]) {
        out.append(EnginePacketType.message.asciiDigit)
        out.append(UInt8(ascii: "0") + SocketPacketType.event.rawValue)
        if let ackID { appendDecimal(UInt64(ackID), to: &out) }
        out.append(contentsOf: template.head)
        appendDecimal(first, to: &out)
        if let second {
            out.append(UInt8(ascii: ","))
            appendDecimal(second, to: &out)
        }
        out.append(contentsOf: template.tail)
    }

    /// The Engine.IO text packet of a Socket.IO packet built by our encoder (connect, join: rare packets).
    func encoded(_ packet: SocketPacket) -> [UInt8] {
        var out: [UInt8] = [EnginePacketType.message.asciiDigit]
        _ = try? SocketPacketEncoder().encode(packet, appendingTextTo: &out)
        return out
    }

    @inline(__always)
    static func decimalLength(_ value: UInt64) -> Int {
        var digits = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        return digits
    }

    @inline(__always)
    static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        // Digits written backwards into stack memory (20 suffice for any UInt64), then appended at once.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { buffer in
            var index = buffer.count
            var rest = value
            repeat {
                index -= 1
                buffer[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            } while rest > 0
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[index...]))
        }
    }

    /// A masking key for the next client frame. The keys only have to be unpredictable to intermediaries
    /// that could be poisoned (RFC 6455 §10.3), which a load generator talking to its own server does not
    /// have; a xorshift sequence seeded from the system generator avoids a `getrandom` call per frame,
    /// while the server still unmasks every byte as it would for a browser.
    @inline(__always)
    func nextMaskingKey() -> WebSocketMaskingKey {
        var x = self.maskState
        x ^= x << 13
        x ^= x >> 7
        x ^= x << 17
        self.maskState = x
        let v = UInt32(truncatingIfNeeded: x >> 16)
        return WebSocketMaskingKey(UInt8(truncatingIfNeeded: v >> 24), UInt8(truncatingIfNeeded: v >> 16),
                                   UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v))
    }

    // MARK: Recognising

    /// Classifies a Socket.IO packet (the Engine.IO `message` packet without its type digit).
    @inline(__always)
    func answer(_ bytes: UnsafeRawBufferPointer) -> Answer {
        if let fast = self.canonicalAnswer(bytes) { return fast }
        return self.decodedAnswer(bytes)
    }

    private static let echoPrefix = Array(#"2["echo","#.utf8)
    private static let broadcastPrefix = Array(#"2["broadcast","#.utf8)

    /// The hot path: `2["echo",<t>,"<payload>"]`, `3<id>[<t>,"<payload>"]`, `2["broadcast",<t>,<k>,…]`
    /// recognised on their bytes; nil when the packet has another shape.
    @inline(__always)
    private func canonicalAnswer(_ bytes: UnsafeRawBufferPointer) -> Answer? {
        let count = bytes.count
        guard count > 2 else { return nil }
        if bytes[0] == UInt8(ascii: "3") {
            var i = 1
            guard let id = Self.number(bytes, &i), i < count, bytes[i] == UInt8(ascii: "["), i + 1 < count,
                  Self.isDigit(bytes[i + 1]) else { return nil }
            i += 1
            guard let sentAt = Self.number(bytes, &i) else { return nil }
            return .ack(id: Int(truncatingIfNeeded: id), sentAt: sentAt, intact: self.hasTail(bytes, at: i))
        }
        if Self.hasPrefix(bytes, Self.echoPrefix) {
            var i = Self.echoPrefix.count
            guard let sentAt = Self.number(bytes, &i) else { return nil }
            return .echo(sentAt: sentAt, intact: self.hasTail(bytes, at: i))
        }
        if Self.hasPrefix(bytes, Self.broadcastPrefix) {
            var i = Self.broadcastPrefix.count
            guard let sentAt = Self.number(bytes, &i), i < count, bytes[i] == UInt8(ascii: ",") else { return nil }
            i += 1
            guard let index = Self.number(bytes, &i) else { return nil }
            return .broadcast(sentAt: sentAt, index: Int(truncatingIfNeeded: index), intact: self.hasTail(bytes, at: i))
        }
        return nil
    }

    /// Everything else, through the full decoder.
    private func decodedAnswer(_ bytes: UnsafeRawBufferPointer) -> Answer {
        var decoder = SocketPacketDecoder(keepsRawData: false)
        let result: SocketDecodeResult
        do {
            result = try decoder.decode(text: Array(bytes))
        } catch {
            self.problem = "\(error)"
            return .malformed
        }
        guard case .packet(let packet) = result else {
            self.problem = "binary packets are not expected"
            return .malformed
        }
        guard packet.namespace == "/" else { return .other }
        switch packet.type {
        case .connect:
            return .connected
        case .connectError:
            self.problem = "connect_error \(packet.data.map { JSONSerializer.string($0) } ?? "")"
            return .refused
        case .disconnect:
            self.problem = "server disconnect"
            return .refused
        case .event:
            let args = Array(packet.arguments)
            switch packet.eventName {
            case "echo":
                guard let sentAt = args.first?.int64Value else {
                    self.problem = "echo without a timestamp"
                    return .malformed
                }
                return .echo(sentAt: UInt64(truncatingIfNeeded: sentAt),
                             intact: args.count == 2 && args[1].stringValue == self.payload)
            case "broadcast":
                guard args.count >= 2, let sentAt = args[0].int64Value, let index = args[1].intValue else {
                    self.problem = "broadcast without a timestamp and index"
                    return .malformed
                }
                return .broadcast(sentAt: UInt64(truncatingIfNeeded: sentAt), index: index,
                                  intact: args.count == 3 && args[2].stringValue == self.payload)
            default:
                return .other
            }
        case .ack:
            guard let id = packet.id else {
                self.problem = "ack without id"
                return .malformed
            }
            let args = packet.data?.arrayValue ?? []
            guard let sentAt = args.first?.int64Value else { return .ack(id: id, sentAt: nil, intact: true) }
            return .ack(id: id, sentAt: UInt64(truncatingIfNeeded: sentAt),
                        intact: args.count == 2 && args[1].stringValue == self.payload)
        default:
            return .other
        }
    }

    @inline(__always)
    private func hasTail(_ bytes: UnsafeRawBufferPointer, at index: Int) -> Bool {
        guard bytes.count - index == self.answerTail.count else { return false }
        return self.answerTail.withUnsafeBytes { tail in
            memcmp(bytes.baseAddress! + index, tail.baseAddress!, tail.count) == 0
        }
    }

    @inline(__always)
    private static func hasPrefix(_ bytes: UnsafeRawBufferPointer, _ prefix: [UInt8]) -> Bool {
        guard bytes.count >= prefix.count else { return false }
        return prefix.withUnsafeBytes { memcmp(bytes.baseAddress!, $0.baseAddress!, prefix.count) == 0 }
    }

    @inline(__always)
    private static func isDigit(_ byte: UInt8) -> Bool { byte &- 0x30 < 10 }

    /// Reads the decimal number at `index` (at least one digit, at most 19) and moves past it.
    @inline(__always)
    private static func number(_ bytes: UnsafeRawBufferPointer, _ index: inout Int) -> UInt64? {
        let start = index
        var value: UInt64 = 0
        while index < bytes.count, Self.isDigit(bytes[index]), index - start < 19 {
            value = value &* 10 &+ UInt64(bytes[index] &- 0x30)
            index += 1
        }
        return index > start ? value : nil
    }
}
