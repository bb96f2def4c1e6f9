import Foundation
import MessagePack
import Testing

/// Every MessagePack payload that Node's adapter and emitter published (Tests/CompatFixtures/redis-adapter)
/// decodes to the value notepack.io decoded, and encodes back to the very same bytes.
struct MessagePackFixtureTests {
    struct Payload: CustomStringConvertible, Sendable {
        let file: String
        let index: Int
        let bytes: [UInt8]
        let decoded: FixtureJSON
        var description: String { "\(self.file)#\(self.index)" }
    }

    /// The fixture's `decoded` field, as Foundation reads it, wrapped to cross into the test arguments.
    struct FixtureJSON: @unchecked Sendable {
        let object: Any
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../CompatFixtures/redis-adapter").standardized

    static func payloads() throws -> [Payload] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".json") }.sorted()
        var payloads: [Payload] = []
        for file in files {
            let data = try Data(contentsOf: directory.appendingPathComponent(file))
            let root = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
            for (index, message) in (root["messages"] as? [[String: Any]] ?? []).enumerated()
            where message["payload_kind"] as? String == "msgpack" {
                let hex = message["payload_hex"] as? String ?? ""
                payloads.append(Payload(file: file, index: index, bytes: [UInt8](hex: hex),
                                        decoded: FixtureJSON(object: message["decoded"] ?? NSNull())))
            }
        }
        return payloads
    }

    @Test func theFixturesHoldTheMessagePackPayloads() throws {
        #expect(try Self.payloads().count == 22)
    }

    @Test(arguments: try payloads())
    func decodesAndReencodesByteForByte(payload: Payload) throws {
        let value = try MessagePackDecoder.decode(payload.bytes)
        #expect(MessagePackEncoder.encode(value) == payload.bytes)
        let expected = payload.decoded.object as? NSObject
        #expect(Self.foundationValue(value).isEqual(expected), "decoded form differs")
    }

    /// The value as Foundation's JSON reader shows the fixture's `decoded` (bytes as `{"$bin_hex": ...}`).
    static func foundationValue(_ value: MessagePackValue) -> NSObject {
        switch value {
        case .nil: return NSNull()
        case .bool(let flag): return NSNumber(value: flag)
        case .int(let number): return NSNumber(value: number)
        case .uint(let number): return NSNumber(value: number)
        case .float(let number): return NSNumber(value: number)
        case .string(let text): return text as NSString
        case .binary(let bytes):
            return ["$bin_hex": bytes.map { String(format: "%02x", $0) }.joined()] as NSDictionary
        case .array(let elements): return elements.map(Self.foundationValue) as NSArray
        case .map(let entries):
            let dictionary = NSMutableDictionary()
            for entry in entries { dictionary[entry.key.stringValue ?? "?"] = Self.foundationValue(entry.value) }
            return dictionary
        case .ext: return NSNull()
        }
    }
}
