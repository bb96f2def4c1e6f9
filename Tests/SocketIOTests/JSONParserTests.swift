import Foundation
import Synchronization
import XCTest
@testable import SocketIO
import Transport

final class JSONParserTests: XCTestCase {
    private func parse(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> JSONValue? {
        do {
            return try JSONParser.parse(text)
        } catch {
            XCTFail("unexpected error \(error) for \(text)", file: file, line: line)
            return nil
        }
    }

    private func assertRejects(
        _ text: String,
        _ kind: JSONParseError.Kind? = nil,
        file: StaticString = #filePath,
        line: UInt = #line
    ) {
        do {
            let value = try JSONParser.parse(text)
            XCTFail("expected rejection of \(text), got \(value)", file: file, line: line)
        } catch {
            if let kind {
                XCTAssertEqual(error.kind, kind, "for \(text)", file: file, line: line)
            }
        }
    }

    func testParsesScalars() {
        XCTAssertEqual(parse("null"), .null)
        XCTAssertEqual(parse("true"), .bool(true))
        XCTAssertEqual(parse("false"), .bool(false))
        XCTAssertEqual(parse("\"hi\""), .string("hi"))
        XCTAssertEqual(parse("0"), .int(0))
        XCTAssertEqual(parse("-17"), .int(-17))
        XCTAssertEqual(parse("2.5"), .double(2.5))
    }

    func testKeepsIntegersExactAndDistinctFromDoubles() {
        guard case .int(12_345_678_901_234)? = parse("12345678901234") else {
            return XCTFail("integer not kept exact")
        }
        guard case .int(Int64.max)? = parse("9223372036854775807") else { return XCTFail("Int64.max") }
        guard case .int(Int64.min)? = parse("-9223372036854775808") else { return XCTFail("Int64.min") }
        guard case .int(9_007_199_254_740_993)? = parse("9007199254740993") else {
            return XCTFail("2^53+1 must not be rounded")
        }
        guard case .double(1.0)? = parse("1.0") else { return XCTFail("1.0 is a double") }
    }

    func testIntegerBeyondInt64BecomesDouble() {
        guard case let .double(d)? = parse("9223372036854775808") else { return XCTFail("expected double") }
        XCTAssertEqual(d, 9_223_372_036_854_775_808.0)
        guard case let .double(n)? = parse("-99999999999999999999") else { return XCTFail("expected double") }
        XCTAssertEqual(n, -1e20)
    }

    func testParsesFractionAndExponentForms() {
        XCTAssertEqual(parse("1e3"), .double(1000))
        XCTAssertEqual(parse("1E+3"), .double(1000))
        XCTAssertEqual(parse("-2.5e-3"), .double(-0.0025))
        XCTAssertEqual(parse("0.1"), .double(0.1))
    }

    func testHugeExponentBecomesInfinityLikeJavaScript() {
        XCTAssertEqual(parse("1e400"), .double(.infinity))
        XCTAssertEqual(parse("-1e400"), .double(-.infinity))
        XCTAssertEqual(parse("1e-400"), .double(0))
    }

    func testDoublesRoundTripBitExactly() throws {
        // Deterministic xorshift so failures reproduce; mixes arbitrary bit
        // patterns with short decimals, which take the parser's fast path.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        for i in 0..<20_000 {
            let value: Double
            if i % 2 == 0 {
                value = Double(bitPattern: next())
                guard value.isFinite else { continue }
            } else {
                let digits = Double(Int64(next() % 1_000_000_000)) - 500_000_000
                value = digits * pow(10, Double(Int(next() % 40)) - 20)
            }
            let text = JSONSerializer.string(.double(value))
            let parsed = try JSONParser.parse(text)
            guard let back = parsed.doubleValue else { return XCTFail("not a number: \(text)") }
            XCTAssertTrue(back.bitPattern == value.bitPattern || (back == 0 && value == 0), "\(value) -> \(text) -> \(back)")
            // Swift's own shortest form must parse to the same value too.
            XCTAssertEqual(try JSONParser.parse(value.description).doubleValue, value, value.description)
        }
    }

    func testKeepsObjectKeyOrder() {
        guard case let .object(object)? = parse(#"{"z":1,"a":2,"m":{"y":1,"b":2}}"#) else {
            return XCTFail("expected object")
        }
        XCTAssertEqual(object.keys, ["z", "a", "m"])
        XCTAssertEqual(object["m"]?.objectValue?.keys, ["y", "b"])
    }

    func testDuplicateKeysKeepFirstPositionAndLastValue() {
        guard case let .object(small)? = parse(#"{"a":1,"b":2,"a":3}"#) else { return XCTFail("object") }
        XCTAssertEqual(small.keys, ["a", "b"])
        XCTAssertEqual(small["a"], .int(3))

        // Past sixteen keys the parser switches to an index; same semantics.
        let keys = (0..<20).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        guard case let .object(large)? = parse("{\(keys),\"k3\":\"again\",\"k19\":null}") else {
            return XCTFail("object")
        }
        XCTAssertEqual(large.count, 20)
        XCTAssertEqual(large.keys[3], "k3")
        XCTAssertEqual(large["k3"], .string("again"))
        XCTAssertEqual(large["k19"], .null)
    }

    func testDecodesAllSimpleEscapes() {
        XCTAssertEqual(parse(#""\"\\\/\b\f\n\r\t""#), .string("\"\\/\u{08}\u{0C}\n\r\t"))
        XCTAssertEqual(parse(#""a\u0041\u00e9\u00E9z""#), .string("aAééz"))
        XCTAssertEqual(parse(#""\u0000""#), .string("\u{0}"))
    }

    func testCombinesSurrogatePairEscapes() {
        XCTAssertEqual(parse(#""\ud83d\ude00""#), .string("😀"))
        XCTAssertEqual(parse(#""x\uD83D\uDE00y""#), .string("x😀y"))
    }

    func testLoneSurrogateEscapesBecomeReplacementCharacter() {
        XCTAssertEqual(parse(#""\ud83d""#), .string("\u{FFFD}"))
        XCTAssertEqual(parse(#""\ude00x""#), .string("\u{FFFD}x"))
        // A high surrogate followed by a non-surrogate escape keeps the second escape.
        XCTAssertEqual(parse(#""\ud83d\u0041""#), .string("\u{FFFD}A"))
        XCTAssertEqual(parse(#""\ud83d\ud83d\ude00""#), .string("\u{FFFD}😀"))
    }

    func testPassesRawUTF8Through() {
        XCTAssertEqual(parse("\"héllo ✓ 😀 ключ\""), .string("héllo ✓ 😀 ключ"))
        XCTAssertEqual(parse("\"\u{2028}\u{7F}\""), .string("\u{2028}\u{7F}"))
    }

    func testRepairsInvalidUTF8InStrings() throws {
        let bytes: [UInt8] = [0x22, 0x61, 0xFF, 0x62, 0x22]
        XCTAssertEqual(try JSONParser.parse(bytes), .string("a\u{FFFD}b"))
        let escaped: [UInt8] = [0x22, 0x5C, 0x6E, 0xC3, 0x22]
        XCTAssertEqual(try JSONParser.parse(escaped), .string("\n\u{FFFD}"))
    }

    func testAllowsWhitespaceBetweenTokens() {
        XCTAssertEqual(
            parse(" \t\r\n[ 1 , { \"a\" : [ ] , \"b\" :{ } } ,\"x\" ] \n"),
            [1, ["a": [], "b": .object(JSONObject())], "x"]
        )
    }

    func testRejectsTrailingGarbage() {
        assertRejects("1 2", .trailingCharacters)
        assertRejects("[1]]", .trailingCharacters)
        assertRejects("{}x", .trailingCharacters)
        assertRejects("null,", .trailingCharacters)
    }

    func testRejectsEmptyInput() {
        assertRejects("", .emptyInput)
        assertRejects("  \n", .emptyInput)
    }

    func testRejectsBadEscapes() {
        assertRejects(#""\x""#, .invalidEscape)
        assertRejects(#""\'""#, .invalidEscape)
        assertRejects(#""\u12""#, .invalidUnicodeEscape)
        assertRejects(#""\u12G4""#, .invalidUnicodeEscape)
        assertRejects(#""\"#, .unexpectedEnd)
    }

    func testRejectsRawControlCharactersInStrings() {
        assertRejects("\"a\nb\"", .controlCharacterInString)
        assertRejects("\"a\u{1}\"", .controlCharacterInString)
        assertRejects("\"\\n\u{1F}\"", .controlCharacterInString)
    }

    func testRejectsNumbersOutsideJSONGrammar() {
        assertRejects("01", .trailingCharacters)
        assertRejects("-", .invalidNumber)
        assertRejects("1.", .invalidNumber)
        assertRejects("1.e3", .invalidNumber)
        assertRejects(".5", .unexpectedCharacter(0x2E))
        assertRejects("+1", .unexpectedCharacter(0x2B))
        assertRejects("1e", .invalidNumber)
        assertRejects("1e+", .invalidNumber)
        assertRejects("-a", .invalidNumber)
        assertRejects("NaN")
        assertRejects("Infinity")
        assertRejects("0x10")
    }

    func testRejectsStructuralErrors() {
        assertRejects("[1,]", .unexpectedCharacter(0x5D))
        assertRejects(#"{"a":1,}"#, .unexpectedCharacter(0x7D))
        assertRejects("[1 2]", .unexpectedCharacter(0x32))
        assertRejects(#"{"a" 1}"#, .unexpectedCharacter(0x31))
        assertRejects("{a:1}", .unexpectedCharacter(0x61))
        assertRejects("{'a':1}", .unexpectedCharacter(0x27))
        assertRejects("[1", .unexpectedEnd)
        assertRejects(#"{"a":"#, .unexpectedEnd)
        assertRejects(#""abc"#, .unexpectedEnd)
        assertRejects("[", .unexpectedEnd)
        assertRejects("{", .unexpectedEnd)
        assertRejects("tru", .unexpectedEnd)
        assertRejects("trux", .unexpectedCharacter(0x78))
        assertRejects("nul", .unexpectedEnd)
        assertRejects("[1}", .unexpectedCharacter(0x7D))
    }

    func testReportsErrorOffset() {
        do {
            _ = try JSONParser.parse(#"[1, "a", x]"#)
            XCTFail("expected error")
        } catch {
            XCTAssertEqual(error.offset, 9)
            XCTAssertEqual(error.kind, .unexpectedCharacter(0x78))
        }
    }

    func testEnforcesDepthLimit() throws {
        let ok = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        XCTAssertNoThrow(try JSONParser.parse(ok))
        let tooDeep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        assertRejects(tooDeep, .tooDeep)
        let deepObjects = String(repeating: #"{"a":"#, count: 600) + "1" + String(repeating: "}", count: 600)
        assertRejects(deepObjects, .tooDeep)
        XCTAssertThrowsError(try JSONParser.parse("[[[1]]]", maxDepth: 2))
        XCTAssertNoThrow(try JSONParser.parse("[[1]]", maxDepth: 2))
    }

    func testHostileNestingFailsWithoutCrashing() {
        // Unclosed and far beyond any stack: must be a clean error.
        assertRejects(String(repeating: "[", count: 200_000), .tooDeep)
        XCTAssertThrowsError(try JSONParser.parse(String(repeating: "[", count: 200_000), maxDepth: .max))
    }

    /// The deepest value the parser accepts by default goes through what a server does with an event's
    /// arguments (parse, serialize, compare, free; all but the parse recurse once per level) on an event loop
    /// thread, also under ASan's larger frames: with 1 MiB loop stacks it overflowed there.
    func testDeepestAcceptedValueFitsALoopThreadsStack() throws {
        let depth = JSONParser.defaultMaxDepth
        let text = String(repeating: #"{"a":["#, count: depth / 2) + "1" + String(repeating: "]}", count: depth / 2)
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdown(timeoutSeconds: 5) }
        let outcome = Mutex<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        group.loops[0].execute {
            defer { done.signal() }
            do {
                let value = try JSONParser.parse(text)
                let again = try JSONParser.parse(JSONSerializer.serialize(value))
                outcome.withLock { $0 = value == again ? JSONSerializer.string(again) : "round trip differs" }
            } catch {
                outcome.withLock { $0 = "\(error)" }
            }
        }
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        XCTAssertEqual(outcome.withLock { $0 }, text)
    }

    func testParsesFromEveryInputForm() throws {
        let text = #"{"a":[1,"b"]}"#
        let expected: JSONValue = ["a": [1, "b"]]
        XCTAssertEqual(try JSONParser.parse(text), expected)
        XCTAssertEqual(try JSONParser.parse(Array(text.utf8)), expected)
        let padded = Array("xx\(text)yy".utf8)
        XCTAssertEqual(try JSONParser.parse(padded[2..<(padded.count - 2)]), expected)
        let bytes = Array(text.utf8)
        let value = try bytes.withUnsafeBytes { raw throws(JSONParseError) in try JSONParser.parse(raw) }
        XCTAssertEqual(value, expected)
    }

    func testRecordsTopLevelElementRanges() throws {
        let text = Array(#"[ "chat" ,{"a":[1,2]}, 3 ,"x"]"#.utf8)
        let result = try text.withUnsafeBufferPointer { buffer throws(JSONParseError) in
            try JSONParser.parseRecordingElements(buffer)
        }
        let pieces = result.elementRanges.map { String(decoding: text[$0], as: UTF8.self) }
        XCTAssertEqual(pieces, [#""chat""#, #"{"a":[1,2]}"#, "3", #""x""#])
    }
}
