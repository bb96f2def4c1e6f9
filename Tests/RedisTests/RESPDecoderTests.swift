import Transport
import XCTest

@testable import Redis

/// The decoder on bytes alone: every RESP2 and RESP3 type, input cut at every point, and malformed or absurd
/// input answered with a typed error.
final class RESPDecoderTests: XCTestCase {
    private func decodeAll(_ text: String, limits: RESPDecoder.Limits = .init()) throws -> [RESPValue] {
        var decoder = RESPDecoder(limits: limits)
        var buffer = ByteBuffer(string: text)
        var values: [RESPValue] = []
        while let value = try decoder.decode(&buffer) { values.append(value) }
        XCTAssertTrue(buffer.isEmpty, "bytes left over: \(buffer.readableArray)")
        return values
    }

    private func decodeOne(_ text: String) throws -> RESPValue {
        let values = try self.decodeAll(text)
        XCTAssertEqual(values.count, 1)
        return values[0]
    }

    private func assertRefused(_ text: String, _ expected: RESPDecodingError, limits: RESPDecoder.Limits = .init(),
                               file: StaticString = #filePath, line: UInt = #line) {
        do {
            let values = try self.decodeAll(text, limits: limits)
            XCTFail("decoded \(values) from \(text.debugDescription)", file: file, line: line)
        } catch let error as RESPDecodingError {
            XCTAssertEqual(error, expected, file: file, line: line)
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
        }
    }

    func testDecodesEveryRESP2Type() throws {
        XCTAssertEqual(try self.decodeOne("+OK\r\n"), .simpleString("OK"))
        XCTAssertEqual(try self.decodeOne("-ERR unknown command 'FOO'\r\n"),
                       .error(RedisError(message: "ERR unknown command 'FOO'")))
        XCTAssertEqual(try self.decodeOne(":1000\r\n"), .integer(1000))
        XCTAssertEqual(try self.decodeOne(":-9223372036854775808\r\n"), .integer(.min))
        XCTAssertEqual(try self.decodeOne(":9223372036854775807\r\n"), .integer(.max))
        XCTAssertEqual(try self.decodeOne("$5\r\nhello\r\n"), .bulkString(Array("hello".utf8)))
        XCTAssertEqual(try self.decodeOne("$0\r\n\r\n"), .bulkString([]))
        XCTAssertEqual(try self.decodeOne("$4\r\na\r\nb\r\n"), .bulkString(Array("a\r\nb".utf8)), "bulk strings are binary-safe")
        XCTAssertEqual(try self.decodeOne("$-1\r\n"), .null)
        XCTAssertEqual(try self.decodeOne("*-1\r\n"), .null)
        XCTAssertEqual(try self.decodeOne("*0\r\n"), .array([]))
        XCTAssertEqual(try self.decodeOne("*3\r\n:1\r\n$3\r\nfoo\r\n*2\r\n+a\r\n$-1\r\n"),
                       .array([.integer(1), .bulkString(Array("foo".utf8)), .array([.simpleString("a"), .null])]))
    }

    func testDecodesEveryRESP3Type() throws {
        XCTAssertEqual(try self.decodeOne("_\r\n"), .null)
        XCTAssertEqual(try self.decodeOne(",3.25\r\n"), .double(3.25))
        XCTAssertEqual(try self.decodeOne(",-1.5e3\r\n"), .double(-1500))
        XCTAssertEqual(try self.decodeOne(",inf\r\n"), .double(.infinity))
        XCTAssertEqual(try self.decodeOne(",-inf\r\n"), .double(-.infinity))
        XCTAssertEqual(try self.decodeOne(",nan\r\n"), .double(.nan))
        XCTAssertEqual(try self.decodeOne("#t\r\n"), .boolean(true))
        XCTAssertEqual(try self.decodeOne("#f\r\n"), .boolean(false))
        XCTAssertEqual(try self.decodeOne("(3492890328409238509324850943850943825024385\r\n"),
                       .bigNumber("3492890328409238509324850943850943825024385"))
        XCTAssertEqual(try self.decodeOne("!21\r\nSYNTAX invalid syntax\r\n"), .error(RedisError(message: "SYNTAX invalid syntax")))
        XCTAssertEqual(try self.decodeOne("=15\r\ntxt:Some string\r\n"), .verbatim(format: "txt", text: Array("Some string".utf8)))
        XCTAssertEqual(try self.decodeOne("%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n#f\r\n"),
                       .map([(.simpleString("first"), .integer(1)), (.bulkString(Array("second".utf8)), .boolean(false))]))
        XCTAssertEqual(try self.decodeOne("~2\r\n+a\r\n:2\r\n"), .set([.simpleString("a"), .integer(2)]))
        XCTAssertEqual(try self.decodeOne(">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"),
                       .push([.bulkString(Array("message".utf8)), .bulkString(Array("ch".utf8)), .bulkString(Array("hi".utf8))]))
        XCTAssertEqual(try self.decodeOne("%0\r\n"), .map([]))
        XCTAssertEqual(try self.decodeOne("~0\r\n"), .set([]))
    }

    func testSkipsAttributesBeforeTheValueTheyAnnotate() throws {
        XCTAssertEqual(try self.decodeOne("|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*2\r\n:2039123\r\n:9543892\r\n"),
                       .array([.integer(2039123), .integer(9543892)]))
        XCTAssertEqual(try self.decodeOne("*2\r\n|0\r\n:1\r\n:2\r\n"), .array([.integer(1), .integer(2)]))
    }

    func testDecodesConsecutiveValuesFromOneBuffer() throws {
        XCTAssertEqual(try self.decodeAll("+OK\r\n:1\r\n$1\r\nx\r\n*1\r\n:2\r\n"),
                       [.simpleString("OK"), .integer(1), .bulkString([120]), .array([.integer(2)])])
    }

    /// One stream holding every type; cut in two at every point, and fed one byte at a time.
    func testPartialInputAtEverySplitPoint() throws {
        let stream = "+OK\r\n-ERR x\r\n:42\r\n$5\r\nhe\r\nl\r\n$-1\r\n*-1\r\n*2\r\n*1\r\n:1\r\n$0\r\n\r\n_\r\n,1.5\r\n#t\r\n(12345678901234567890\r\n"
            + "!3\r\nERR\r\n=7\r\ntxt:abc\r\n%1\r\n+k\r\n~1\r\n:7\r\n>2\r\n+a\r\n+b\r\n|1\r\n+t\r\n:1\r\n:5\r\n"
        let bytes = Array(stream.utf8)
        let expected = try self.decodeAll(stream)
        XCTAssertEqual(expected.count, 16)
        for split in 0...bytes.count {
            var decoder = RESPDecoder()
            var buffer = ByteBuffer(bytes: bytes[0..<split])
            var values: [RESPValue] = []
            while let value = try decoder.decode(&buffer) { values.append(value) }
            buffer.append(contentsOf: bytes[split...])
            while let value = try decoder.decode(&buffer) { values.append(value) }
            XCTAssertEqual(values, expected, "split at \(split)")
            XCTAssertTrue(buffer.isEmpty)
            XCTAssertFalse(decoder.hasPartialValue)
        }
        var decoder = RESPDecoder()
        var buffer = ByteBuffer()
        var values: [RESPValue] = []
        for byte in bytes {
            buffer.append(byte)
            while let value = try decoder.decode(&buffer) { values.append(value) }
        }
        XCTAssertEqual(values, expected)
    }

    func testConsumesFinishedElementsOfAnUnfinishedAggregate() throws {
        var decoder = RESPDecoder()
        var buffer = ByteBuffer(string: "*3\r\n$3\r\nabc\r\n:1\r\n$5\r\nhe")
        XCTAssertNil(try decoder.decode(&buffer))
        XCTAssertTrue(decoder.hasPartialValue)
        XCTAssertEqual(buffer.readableArray, Array("$5\r\nhe".utf8), "only the cut-off element stays in the buffer")
        buffer.append(string: "llo\r\n")
        XCTAssertEqual(try decoder.decode(&buffer), .array([.bulkString(Array("abc".utf8)), .integer(1), .bulkString(Array("hello".utf8))]))
    }

    func testRefusesMalformedLines() {
        self.assertRefused("?1\r\n", .unknownType(UInt8(ascii: "?")))
        self.assertRefused(":12a\r\n", .malformedLine("integer"))
        self.assertRefused(":\r\n", .malformedLine("integer"))
        self.assertRefused(":-\r\n", .malformedLine("integer"))
        self.assertRefused(":99999999999999999999\r\n", .malformedLine("integer"))
        self.assertRefused(":9223372036854775808\r\n", .malformedLine("integer"))
        self.assertRefused("+OK\rX", .malformedLine("CR without LF"))
        self.assertRefused("$x\r\n", .malformedLine("length"))
        self.assertRefused("*1x\r\n", .malformedLine("count"))
        self.assertRefused("$3\r\nabcXY", .missingTerminator)
        self.assertRefused("$-2\r\n", .invalidLength(-2))
        self.assertRefused("!-1\r\n", .invalidLength(-1))
        self.assertRefused("*-2\r\n", .invalidLength(-2))
        self.assertRefused("~-1\r\n", .invalidLength(-1))
        self.assertRefused("#x\r\n", .malformedLine("boolean"))
        self.assertRefused(",abc\r\n", .malformedLine("double"))
        self.assertRefused(",\r\n", .malformedLine("double"))
        self.assertRefused("(12a\r\n", .malformedLine("big number"))
        self.assertRefused("_x\r\n", .malformedLine("null"))
        self.assertRefused("=2\r\nab\r\n", .malformedLine("verbatim string"))
        self.assertRefused("$?\r\n", .streamedTypeUnsupported)
        self.assertRefused("*?\r\n", .streamedTypeUnsupported)
    }

    func testRefusesAbsurdLengthsBeforeAllocating() {
        // 512 MB + 1 and 2^62: refused from the header alone, without waiting for (or reserving) the bytes.
        self.assertRefused("$536870913\r\n", .bulkTooLong(536_870_913))
        self.assertRefused("$4611686018427387904\r\n", .bulkTooLong(4_611_686_018_427_387_904))
        self.assertRefused("*4611686018427387904\r\n", .countTooLarge(4_611_686_018_427_387_904))
        self.assertRefused("%9223372036854775807\r\n", .countTooLarge(9_223_372_036_854_775_807))
        var limits = RESPDecoder.Limits()
        limits.maxBulkLength = 10
        limits.maxAggregateCount = 3
        self.assertRefused("$11\r\n", .bulkTooLong(11), limits: limits)
        self.assertRefused("*4\r\n", .countTooLarge(4), limits: limits)
        XCTAssertNoThrow(try self.decodeAll("*3\r\n$10\r\n0123456789\r\n:1\r\n:2\r\n", limits: limits))
        // Limits raised to the maximum: the arithmetic on lengths and counts still cannot overflow.
        var unlimited = RESPDecoder.Limits()
        unlimited.maxBulkLength = .max
        unlimited.maxAggregateCount = .max
        self.assertRefused("%9223372036854775807\r\n", .countTooLarge(9_223_372_036_854_775_807), limits: unlimited)
        var decoder = RESPDecoder(limits: unlimited)
        var buffer = ByteBuffer(string: "$9223372036854775807\r\nabc")
        XCTAssertNil(try decoder.decode(&buffer), "waits for bytes that will never come, without a trap")
    }

    func testRefusesDeepNesting() throws {
        let deep = String(repeating: "*1\r\n", count: 65) + ":1\r\n"
        self.assertRefused(deep, .nestingTooDeep(64))
        let allowed = String(repeating: "*1\r\n", count: 64) + ":1\r\n"
        var expected = RESPValue.integer(1)
        for _ in 0..<64 { expected = .array([expected]) }
        XCTAssertEqual(try self.decodeOne(allowed), expected)
        // A million openers arriving without end: refused once the bound is crossed, not after.
        self.assertRefused(String(repeating: "*1\r\n", count: 1_000_000), .nestingTooDeep(64))
    }

    func testRefusesALineWithoutEnd() throws {
        var limits = RESPDecoder.Limits()
        limits.maxLineLength = 16
        self.assertRefused("+" + String(repeating: "a", count: 17), .lineTooLong, limits: limits)
        // Up to the bound, a line without its end yet only waits for more.
        var decoder = RESPDecoder(limits: limits)
        var buffer = ByteBuffer(string: "+" + String(repeating: "a", count: 16))
        XCTAssertNil(try decoder.decode(&buffer))
        buffer.append(string: "\r\n")
        XCTAssertEqual(try decoder.decode(&buffer), .simpleString(String(repeating: "a", count: 16)))
    }

    func testResetsAfterAnError() throws {
        var decoder = RESPDecoder()
        var buffer = ByteBuffer(string: "*2\r\n:1\r\n:x\r\n")
        XCTAssertThrowsError(try decoder.decode(&buffer))
        XCTAssertFalse(decoder.hasPartialValue)
    }
}
