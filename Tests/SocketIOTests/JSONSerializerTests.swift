import XCTest
@testable import SocketIO

final class JSONSerializerTests: XCTestCase {
    private func text(_ value: JSONValue) -> String {
        JSONSerializer.string(value)
    }

    func testWritesCompactOutputInKeyOrder() {
        let value: JSONValue = ["z": 1, "a": [true, false, nil], "m": ["k": "v"], "e": [], "o": .object(JSONObject())]
        XCTAssertEqual(text(value), #"{"z":1,"a":[true,false,null],"m":{"k":"v"},"e":[],"o":{}}"#)
    }

    func testWritesIntegersExactly() {
        XCTAssertEqual(text(.int(0)), "0")
        XCTAssertEqual(text(.int(-7)), "-7")
        XCTAssertEqual(text(.int(12_345_678_901_234)), "12345678901234")
        XCTAssertEqual(text(.int(Int64.max)), "9223372036854775807")
        XCTAssertEqual(text(.int(Int64.min)), "-9223372036854775808")
    }

    func testWritesDoublesLikeJavaScript() {
        // Expected strings are what Number.prototype.toString prints.
        let cases: [(Double, String)] = [
            (1.0, "1"),
            (100.0, "100"),
            (-0.0, "0"),
            (0.1, "0.1"),
            (1.5, "1.5"),
            (-2.75, "-2.75"),
            (123456.789, "123456.789"),
            (1e15, "1000000000000000"),
            (1e16, "10000000000000000"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e300, "1.5e+300"),
            (1e-6, "0.000001"),
            (1.234e-6, "0.000001234"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (1.23e-18, "1.23e-18"),
            (Double.leastNonzeroMagnitude, "5e-324"),
            (Double.greatestFiniteMagnitude, "1.7976931348623157e+308"),
            (1_152_921_504_606_846_976, "1152921504606847000"), // 2^60: shortest digits, zero-padded
            (9_007_199_254_740_992, "9007199254740992"),
            (0.30000000000000004, "0.30000000000000004"),
            (123e-20, "1.23e-18"),
            (-1e21, "-1e+21"),
        ]
        for (value, expected) in cases {
            XCTAssertEqual(text(.double(value)), expected, "for \(value)")
        }
    }

    func testWritesNonFiniteDoublesAsNull() {
        XCTAssertEqual(text(.double(.nan)), "null")
        XCTAssertEqual(text(.double(.infinity)), "null")
        XCTAssertEqual(text(.double(-.infinity)), "null")
    }

    func testEscapesOnlyWhatJSONStringifyEscapes() {
        XCTAssertEqual(text(.string("a\"b\\c/d")), #""a\"b\\c/d""#)
        XCTAssertEqual(text(.string("\u{8}\u{9}\u{A}\u{C}\u{D}")), #""\b\t\n\f\r""#)
        XCTAssertEqual(text(.string("\u{0}\u{1}\u{1F}\u{B}")), #""\u0000\u0001\u001f\u000b""#)
        // DEL, non-ASCII and line separators stay raw UTF-8.
        XCTAssertEqual(text(.string("\u{7F}é✓😀\u{2028}")), "\"\u{7F}é✓😀\u{2028}\"")
    }

    func testEscapesObjectKeys() {
        XCTAssertEqual(text(["a\"\n": 1]), #"{"a\"\n":1}"#)
    }

    func testWritesBinaryAsBase64String() {
        XCTAssertEqual(text(.binary([])), #""""#)
        XCTAssertEqual(text(.binary([0x66])), #""Zg==""#)
        XCTAssertEqual(text(.binary([0x66, 0x6F])), #""Zm8=""#)
        XCTAssertEqual(text(.binary(Array("foobar".utf8))), #""Zm9vYmFy""#)
        XCTAssertEqual(text(.binary([0xFF, 0xFE, 0x00])), #""//4A""#)
    }

    func testAppendsToExistingBuffer() {
        var output = Array("prefix:".utf8)
        JSONSerializer.serialize([1, "x"], into: &output)
        XCTAssertEqual(String(decoding: output, as: UTF8.self), #"prefix:[1,"x"]"#)
    }

    func testExtractsBinaryAsNumberedPlaceholdersDepthFirst() {
        let value: JSONValue = ["a", .binary([1]), ["x": .binary([2]), "y": [.binary([3])]], .binary([4])]
        var output: [UInt8] = []
        var attachments: [[UInt8]] = []
        JSONSerializer.serializeExtractingBinary(value, into: &output, attachments: &attachments)
        XCTAssertEqual(
            String(decoding: output, as: UTF8.self),
            #"["a",{"_placeholder":true,"num":0},{"x":{"_placeholder":true,"num":1},"y":[{"_placeholder":true,"num":2}]},{"_placeholder":true,"num":3}]"#
        )
        XCTAssertEqual(attachments, [[1], [2], [3], [4]])
    }

    func testRoundTripsThroughParser() throws {
        let corpus = [
            #"{"a":[1,-2,3.5,"x\u0001y",null,true,false],"b":{"c":{}},"d":[]}"#,
            #"["é😀",12345678901234,-9223372036854775808,1e+21,1e-7,0.1]"#,
            #""\"\\\b\f\n\r\t""#,
            "[[[[[]]]]]",
        ]
        for text in corpus {
            let value = try JSONParser.parse(text)
            XCTAssertEqual(JSONSerializer.string(value), text)
            XCTAssertEqual(try JSONParser.parse(JSONSerializer.serialize(value)), value)
        }
    }
}
