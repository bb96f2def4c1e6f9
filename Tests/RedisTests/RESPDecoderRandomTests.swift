import Transport
import XCTest

@testable import Redis

/// Randomised decoder checks with a fixed seed: generated values survive encoding and decoding at random cut
/// points, and random bytes end in values, an error or a wait, never a crash or a hang.
final class RESPDecoderRandomTests: XCTestCase {
    /// A seeded generator, so that a failure reproduces: Knuth's MMIX linear congruential step, whose high
    /// bits are plenty for picking test cases.
    private struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            self.state = self.state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (self.state >> 32) | (self.state << 32)
        }
    }

    private func randomValue(depth: Int, _ random: inout SeededGenerator) -> RESPValue {
        let kinds = depth >= 4 ? 10 : 14
        switch Int.random(in: 0..<kinds, using: &random) {
        case 0: return .simpleString(String(repeating: "s", count: Int.random(in: 0..<8, using: &random)))
        case 1: return .error(RedisError(message: "ERR code \(Int.random(in: 0..<100, using: &random))"))
        case 2: return .integer(Int64.random(in: .min ... .max, using: &random))
        case 3: return .bulkString((0..<Int.random(in: 0..<40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
        case 4: return .null
        case 5: return .double(Double(Int.random(in: -1000...1000, using: &random)) / 8)
        case 6: return .boolean(Bool.random(using: &random))
        case 7: return .bigNumber(String(Int.random(in: 0 ... .max, using: &random)) + "0123456789")
        case 8: return .verbatim(format: "txt", text: Array("verbatim \(Int.random(in: 0..<9, using: &random))".utf8))
        case 9: return .error(RedisError(message: "BLOB\r\nerror"))
        case 10: return .array((0..<Int.random(in: 0..<5, using: &random)).map { _ in self.randomValue(depth: depth + 1, &random) })
        case 11: return .set((0..<Int.random(in: 0..<5, using: &random)).map { _ in self.randomValue(depth: depth + 1, &random) })
        case 12: return .push((0..<Int.random(in: 1..<5, using: &random)).map { _ in self.randomValue(depth: depth + 1, &random) })
        default:
            return .map((0..<Int.random(in: 0..<4, using: &random)).map { _ in
                (self.randomValue(depth: depth + 1, &random), self.randomValue(depth: depth + 1, &random))
            })
        }
    }

    /// RESP bytes for `value` (test-side encoder; blob errors for messages with CR or LF).
    private func encode(_ value: RESPValue, into out: inout [UInt8]) {
        func line(_ type: Character, _ text: String) { out.append(contentsOf: Array("\(type)\(text)\r\n".utf8)) }
        func blob(_ type: Character, _ bytes: [UInt8]) {
            line(type, String(bytes.count))
            out.append(contentsOf: bytes)
            out.append(contentsOf: [13, 10])
        }
        switch value {
        case .simpleString(let text): line("+", text)
        case .error(let error):
            if error.message.contains("\r") { blob("!", Array(error.message.utf8)) } else { line("-", error.message) }
        case .integer(let number): line(":", String(number))
        case .bulkString(let bytes): blob("$", bytes)
        case .null: line("_", "")
        case .double(let number): line(",", String(number))
        case .boolean(let flag): line("#", flag ? "t" : "f")
        case .bigNumber(let digits): line("(", digits)
        case .verbatim(let format, let text): blob("=", Array(format.utf8) + [58] + text)
        case .array(let items): line("*", String(items.count)); items.forEach { self.encode($0, into: &out) }
        case .set(let items): line("~", String(items.count)); items.forEach { self.encode($0, into: &out) }
        case .push(let items): line(">", String(items.count)); items.forEach { self.encode($0, into: &out) }
        case .map(let pairs):
            line("%", String(pairs.count))
            for (key, item) in pairs {
                self.encode(key, into: &out)
                self.encode(item, into: &out)
            }
        }
    }

    func testGeneratedValuesSurviveRandomCutPoints() throws {
        var random = SeededGenerator(state: 0x5EED)
        for _ in 0..<400 {
            let values = (0..<Int.random(in: 1..<6, using: &random)).map { _ in self.randomValue(depth: 0, &random) }
            var bytes: [UInt8] = []
            for value in values { self.encode(value, into: &bytes) }
            var decoder = RESPDecoder()
            var buffer = ByteBuffer()
            var decoded: [RESPValue] = []
            var offset = 0
            while offset < bytes.count {
                let step = min(bytes.count - offset, Int.random(in: 1...16, using: &random))
                buffer.append(contentsOf: bytes[offset..<(offset + step)])
                offset += step
                while let value = try decoder.decode(&buffer) { decoded.append(value) }
            }
            XCTAssertEqual(decoded, values)
            XCTAssertTrue(buffer.isEmpty)
        }
    }

    /// Random bytes, and valid streams with a byte changed, inserted or removed: values, an error or a wait.
    func testRandomAndMutatedBytesNeverCrashOrHang() {
        var random = SeededGenerator(state: 0xBAD5EED)
        let alphabet = Array("+-:$*_,#(!=%~>|?0123456789-\r\n abcft".utf8)
        var outcomes = (values: 0, errors: 0, waits: 0)
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 1..<48, using: &random)).map { _ in
                    Bool.random(using: &random) ? alphabet[Int.random(in: 0..<alphabet.count, using: &random)]
                        : UInt8.random(in: 0...255, using: &random)
                }
            } else {
                bytes = []
                self.encode(self.randomValue(depth: 0, &random), into: &bytes)
                let position = Int.random(in: 0..<bytes.count, using: &random)
                let byte = alphabet[Int.random(in: 0..<alphabet.count, using: &random)]
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[position] = byte
                case 1: bytes.insert(byte, at: position)
                default: bytes.remove(at: position)
                }
            }
            var decoder = RESPDecoder()
            var buffer = ByteBuffer(bytes: bytes)
            do {
                var decodedAny = false
                // Each decoded value consumes bytes, so this ends.
                while try decoder.decode(&buffer) != nil { decodedAny = true }
                if decodedAny { outcomes.values += 1 } else { outcomes.waits += 1 }
            } catch {
                outcomes.errors += 1
            }
        }
        XCTAssertGreaterThan(outcomes.errors, 1000, "\(outcomes)")
        XCTAssertGreaterThan(outcomes.values, 1000, "\(outcomes)")
        XCTAssertGreaterThan(outcomes.waits, 1000, "\(outcomes)")
    }
}
