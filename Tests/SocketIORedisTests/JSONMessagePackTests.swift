import MessagePack
import SocketIO
@testable import SocketIORedis
import Testing

/// JSON values and MessagePack convert both ways as JavaScript sees them, and the direct encoder writes the
/// same bytes as the tree one.
struct JSONMessagePackTests {
    static func randomJSON(_ state: inout UInt64, depth: Int = 0) -> JSONValue {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let pick = Int(state >> 33)
        switch pick % (depth > 3 ? 6 : 8) {
        case 0: return .null
        case 1: return .bool(pick & 1 == 0)
        case 2: return .int(Int64(pick % 200_000) - 100_000 + (pick % 3 == 0 ? Int64(pick) << 20 : 0))
        case 3: return .double(Double(pick % 10_000) / 8 + 0.125)
        case 4: return .string(String(repeating: "é", count: pick % 40))
        case 5: return .binary([UInt8](repeating: UInt8(pick & 0xFF), count: pick % 300))
        case 6: return .array((0..<(pick % 6)).map { _ in randomJSON(&state, depth: depth + 1) })
        default:
            return .object(JSONObject((0..<(pick % 6)).map { ("k\($0)", randomJSON(&state, depth: depth + 1)) }))
        }
    }

    @Test func directEncodingEqualsTheTreeAndRoundTrips() throws {
        var state: UInt64 = 42
        for _ in 0..<2_000 {
            let json = Self.randomJSON(&state)
            var direct: [UInt8] = []
            RedisPayload.appendMessagePack(json, to: &direct)
            #expect(direct == MessagePackEncoder.encode(MessagePackValue(json)))
            #expect(JSONValue(try MessagePackDecoder.decode(direct)) == json)
        }
    }

    @Test func nonStringKeysBecomeTheirText() {
        let map = MessagePackValue.map([MessagePackPair(.int(1), .nil), MessagePackPair(.bool(true), .int(2))])
        #expect(JSONValue(map) == ["1": .null, "true": 2])
        #expect(JSONValue(MessagePackValue.ext(type: -1, data: [0, 0, 0, 0])) == .null)
    }
}
