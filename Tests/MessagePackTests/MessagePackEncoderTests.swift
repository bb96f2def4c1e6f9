import MessagePack
import Testing

/// The encoder picks the forms notepack.io picks, at every size boundary.
struct MessagePackEncoderTests {
    private func hex(_ value: MessagePackValue) -> String {
        MessagePackEncoder.encode(value).map { String(format: "%02x", $0) }.joined()
    }

    @Test(arguments: [
        (Int64(0), "00"), (127, "7f"), (128, "cc80"), (255, "ccff"), (256, "cd0100"), (65535, "cdffff"),
        (65536, "ce00010000"), (4_294_967_295, "ceffffffff"), (4_294_967_296, "cf0000000100000000"),
        (-1, "ff"), (-32, "e0"), (-33, "d0df"), (-128, "d080"), (-129, "d1ff7f"), (-32768, "d18000"),
        (-32769, "d2ffff7fff"), (-2_147_483_648, "d280000000"), (-2_147_483_649, "d3ffffffff7fffffff"),
        (Int64.max, "cf7fffffffffffffff"), (Int64.min, "d38000000000000000"),
    ])
    func integersTakeTheSmallestForm(value: Int64, expected: String) {
        #expect(self.hex(.int(value)) == expected)
    }

    @Test func unsignedAboveInt64() {
        #expect(self.hex(.uint(UInt64.max)) == "cfffffffffffffffff")
    }

    @Test func fractionsAreFloat64AndIntegralFloatsAreIntegers() {
        #expect(self.hex(.float(1.5)) == "cb3ff8000000000000")
        #expect(self.hex(.float(-0.25)) == "cbbfd0000000000000")
        #expect(self.hex(.float(2000)) == "cd07d0")
        #expect(self.hex(.float(-0.0)) == "00")
        #expect(self.hex(.float(-40)) == "d0d8")
        #expect(self.hex(.float(.infinity)) == "cb7ff0000000000000")
        #expect(self.hex(.float(1e300)) == "cb7e37e43c8800759c")
    }

    @Test func scalars() {
        #expect(self.hex(.nil) == "c0")
        #expect(self.hex(.bool(false)) == "c2")
        #expect(self.hex(.bool(true)) == "c3")
    }

    @Test(arguments: [(0, "a0"), (31, "bf"), (32, "d920"), (255, "d9ff"), (256, "da0100"), (65535, "daffff"),
                      (65536, "db00010000")])
    func stringHeaders(length: Int, header: String) {
        let encoded = self.hex(.string(String(repeating: "a", count: length)))
        #expect(encoded.hasPrefix(header))
        #expect(encoded.count == header.count + 2 * length)
    }

    @Test func stringLengthCountsUTF8Bytes() {
        #expect(self.hex(.string("é")) == "a2c3a9")
    }

    @Test(arguments: [(0, "c400"), (255, "c4ff"), (256, "c50100"), (65535, "c5ffff"), (65536, "c600010000")])
    func binaryHeaders(length: Int, header: String) {
        let encoded = MessagePackEncoder.encode(.binary([UInt8](repeating: 7, count: length)))
        #expect(encoded.prefix(header.count / 2).map { String(format: "%02x", $0) }.joined() == header)
        #expect(encoded.count == header.count / 2 + length)
    }

    @Test(arguments: [(0, "90"), (15, "9f"), (16, "dc0010"), (65535, "dcffff"), (65536, "dd00010000")])
    func arrayHeaders(count: Int, header: String) {
        let encoded = MessagePackEncoder.encode(.array(Array(repeating: .nil, count: count)))
        #expect(encoded.prefix(header.count / 2).map { String(format: "%02x", $0) }.joined() == header)
        #expect(encoded.count == header.count / 2 + count)
    }

    @Test(arguments: [(0, "80"), (15, "8f"), (16, "de0010"), (65536, "df00010000")])
    func mapHeaders(count: Int, header: String) {
        let entries = (0..<count).map { MessagePackPair(.int(Int64($0)), .nil) }
        let encoded = MessagePackEncoder.encode(.map(entries))
        #expect(encoded.prefix(header.count / 2).map { String(format: "%02x", $0) }.joined() == header)
    }

    @Test func mapKeysKeepTheirOrder() {
        #expect(self.hex(.map(["b": .int(1), "a": .int(2)])) == "82a16201a16102")
    }

    @Test func extensionsUseFixextWhenTheSizeFits() {
        #expect(self.hex(.ext(type: -1, data: [1, 2, 3, 4])) == "d6ff01020304")
        #expect(self.hex(.ext(type: 5, data: [1, 2, 3])) == "c70305010203")
    }
}
