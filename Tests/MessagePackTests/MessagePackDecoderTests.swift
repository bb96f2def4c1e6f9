import MessagePack
import Testing

/// Every form decodes, and malformed input is refused with the right error, never a crash or a huge allocation.
struct MessagePackDecoderTests {
    private func decode(_ hex: String, limits: MessagePackLimits = MessagePackLimits()) throws(MessagePackDecodingError) -> MessagePackValue {
        try MessagePackDecoder.decode([UInt8](hex: hex), limits: limits)
    }

    @Test func everyForm() throws {
        #expect(try self.decode("7f") == .int(127))
        #expect(try self.decode("e0") == .int(-32))
        #expect(try self.decode("cc80") == .int(128))
        #expect(try self.decode("cd07d0") == .int(2000))
        #expect(try self.decode("ceffffffff") == .int(4_294_967_295))
        #expect(try self.decode("cf7fffffffffffffff") == .int(Int64.max))
        #expect(try self.decode("cfffffffffffffffff") == .uint(UInt64.max))
        #expect(try self.decode("d080") == .int(-128))
        #expect(try self.decode("d18000") == .int(-32768))
        #expect(try self.decode("d280000000") == .int(-2_147_483_648))
        #expect(try self.decode("d38000000000000000") == .int(Int64.min))
        #expect(try self.decode("ca3fc00000") == .float(1.5))
        #expect(try self.decode("cb3ff8000000000000") == .float(1.5))
        #expect(try self.decode("c0") == .nil)
        #expect(try self.decode("c2") == .bool(false))
        #expect(try self.decode("c3") == .bool(true))
        #expect(try self.decode("a3616263") == .string("abc"))
        #expect(try self.decode("d903616263") == .string("abc"))
        #expect(try self.decode("da0003616263") == .string("abc"))
        #expect(try self.decode("db00000003616263") == .string("abc"))
        #expect(try self.decode("c403010203") == .binary([1, 2, 3]))
        #expect(try self.decode("c5000101") == .binary([1]))
        #expect(try self.decode("c60000000101") == .binary([1]))
        #expect(try self.decode("920102") == .array([.int(1), .int(2)]))
        #expect(try self.decode("dc00020102") == .array([.int(1), .int(2)]))
        #expect(try self.decode("dd000000020102") == .array([.int(1), .int(2)]))
        #expect(try self.decode("81a16101") == .map(["a": .int(1)]))
        #expect(try self.decode("de0001a16101") == .map(["a": .int(1)]))
        #expect(try self.decode("df00000001a16101") == .map(["a": .int(1)]))
        #expect(try self.decode("d4ff01") == .ext(type: -1, data: [1]))
        #expect(try self.decode("d8010102030405060708090a0b0c0d0e0f10") == .ext(type: 1, data: Array(1...16)))
        #expect(try self.decode("c7020a0102") == .ext(type: 10, data: [1, 2]))
    }

    @Test func invalidUTF8IsReplacedAsJavaScriptDoes() throws {
        #expect(try self.decode("a2c328") == .string("\u{FFFD}("))
    }

    @Test(arguments: ["", "cd07", "cb3ff8", "92", "9201", "81a161", "d9", "c7", "d4ff", "dc00"])
    func truncatedInputIsRefused(hex: String) {
        #expect {
            try self.decode(hex)
        } throws: { error in
            guard let error = error as? MessagePackDecodingError else { return false }
            switch error {
            case .truncated, .countBeyondLimit, .lengthBeyondInput: return true
            default: return false
            }
        }
    }

    @Test func lengthsBeyondTheInputAreRefusedBeforeAllocating() {
        #expect(throws: MessagePackDecodingError.lengthBeyondInput(offset: 0, length: 0xFFFF_FFFF)) {
            try self.decode("dbffffffff61")
        }
        #expect(throws: MessagePackDecodingError.lengthBeyondInput(offset: 0, length: 0xFFFF_FFFF)) {
            try self.decode("c6ffffffff")
        }
        #expect(throws: MessagePackDecodingError.lengthBeyondInput(offset: 1, length: 4)) {
            try self.decode("91c404010203")
        }
        #expect(throws: MessagePackDecodingError.lengthBeyondInput(offset: 0, length: 0xFFFF_FFFF)) {
            try self.decode("c9ffffffff01")
        }
    }

    @Test func hugeCountsAreRefusedBeforeAllocating() {
        #expect(throws: MessagePackDecodingError.countBeyondLimit(offset: 0, count: 0xFFFF_FFFF)) {
            try self.decode("ddffffffff01")
        }
        #expect(throws: MessagePackDecodingError.countBeyondLimit(offset: 0, count: 0xFFFF_FFFF)) {
            try self.decode("dfffffffffa16101")
        }
        // Within the input but above the configured bound.
        #expect(throws: MessagePackDecodingError.countBeyondLimit(offset: 0, count: 4)) {
            try self.decode("9401020304", limits: MessagePackLimits(maxCount: 3))
        }
        // A map entry needs two bytes at least.
        #expect(throws: MessagePackDecodingError.countBeyondLimit(offset: 0, count: 2)) {
            try self.decode("82a16101")
        }
    }

    @Test func deepNestingIsRefused() {
        let deep = [UInt8](repeating: 0x91, count: 100_000) + [0xC0]
        #expect(throws: MessagePackDecodingError.tooDeep(offset: 100, limit: 100)) {
            try MessagePackDecoder.decode(deep)
        }
        let maps = Array([[UInt8]](repeating: [0x81, 0xA1, 0x6B], count: 20).joined()) + [0xC0]
        #expect(throws: MessagePackDecodingError.tooDeep(offset: 30, limit: 10)) {
            try MessagePackDecoder.decode(maps, limits: MessagePackLimits(maxDepth: 10))
        }
        let allowed = [UInt8](repeating: 0x91, count: 100) + [0xC0]
        #expect((try? MessagePackDecoder.decode(allowed)) != nil)
    }

    @Test func reservedByteAndTrailingBytesAreRefused() {
        #expect(throws: MessagePackDecodingError.invalidByte(offset: 1, byte: 0xC1)) { try self.decode("91c1") }
        #expect(throws: MessagePackDecodingError.trailingBytes(offset: 1)) { try self.decode("c0c0") }
    }

    @Test func randomGarbageNeverCrashes() {
        var generator = SplitMix64(seed: 7)
        for _ in 0..<20_000 {
            let length = Int(generator.next() % 40)
            let garbage = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            _ = try? MessagePackDecoder.decode(garbage)
        }
    }
}
