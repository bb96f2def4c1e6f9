import Foundation
import XCTest

import EngineIO
import Transport

/// The codec's own base64: standard alphabet, strict about characters, lenient about missing padding.
final class Base64Tests: XCTestCase {
    private let vectors: [(String, String)] = [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ]

    private func assertDecodeError(
        _ text: String,
        _ expected: Base64.DecodingError,
        file: StaticString = #filePath,
        line: UInt = #line
    ) {
        do {
            let bytes = try Base64.decode(text)
            XCTFail("decoded \(bytes) from \(text)", file: file, line: line)
        } catch {
            XCTAssertEqual(error, expected, file: file, line: line)
        }
    }

    func testEncodesRFC4648Vectors() {
        for (plain, encoded) in vectors {
            XCTAssertEqual(Base64.encodeToString(Array(plain.utf8)), encoded)
            XCTAssertEqual(Base64.encodedLength(byteCount: plain.utf8.count), encoded.utf8.count)
        }
    }

    func testDecodesRFC4648Vectors() throws {
        for (plain, encoded) in vectors {
            XCTAssertEqual(try Base64.decode(encoded), Array(plain.utf8), encoded)
        }
    }

    func testDecodesWithoutPadding() throws {
        XCTAssertEqual(try Base64.decode("Zg"), Array("f".utf8))
        XCTAssertEqual(try Base64.decode("Zm8"), Array("fo".utf8))
        XCTAssertEqual(try Base64.decode("Zm9vYmE"), Array("fooba".utf8))
    }

    func testIgnoresNonZeroBitsInFinalCharacter() throws {
        // Node and Python accept these too; rejecting them would refuse input the reference servers take.
        XCTAssertEqual(try Base64.decode("Zh=="), Array("f".utf8))
        XCTAssertEqual(try Base64.decode("Zm9="), Array("fo".utf8))
    }

    func testDecodesFromSliceAndArrayInputs() throws {
        let text = Array("..Zm9vYmFy".utf8)
        XCTAssertEqual(try Base64.decode(text[2...]), Array("foobar".utf8))
        XCTAssertEqual(try Base64.decode(Array("Zm9v".utf8)), Array("foo".utf8))
    }

    func testRejectsCharacterOutsideAlphabetWithItsOffset() {
        assertDecodeError("Zm9v!mFy", .invalidCharacter(offset: 4))
        assertDecodeError("Zm9vYmF\u{0}", .invalidCharacter(offset: 7))
        assertDecodeError("Zm9vY€", .invalidCharacter(offset: 5))
    }

    func testRejectsInvalidCharacterInUnpaddedTail() {
        assertDecodeError("Zm9vY.", .invalidCharacter(offset: 5))
        assertDecodeError("Zm9v.m8", .invalidCharacter(offset: 4))
    }

    func testRejectsURLSafeAlphabet() {
        assertDecodeError("-_-_", .invalidCharacter(offset: 0))
    }

    func testRejectsWhitespace() {
        // Lengths are kept at a multiple of four so the character check, not the length check, fires.
        assertDecodeError("Zm9v YmF", .invalidCharacter(offset: 4))
        assertDecodeError("Zm9v\r\nYm", .invalidCharacter(offset: 4))
    }

    func testRejectsPaddingBeforeTheEnd() {
        assertDecodeError("Zg==Zg==", .invalidCharacter(offset: 2))
    }

    func testRejectsMoreThanTwoPaddingCharacters() {
        assertDecodeError("Z===", .invalidPadding)
        assertDecodeError("====", .invalidPadding)
    }

    func testRejectsPaddingThatDoesNotCompleteAQuantum() {
        assertDecodeError("Zg=", .invalidPadding)
        assertDecodeError("Zm9vZg=", .invalidPadding)
        assertDecodeError("=", .invalidPadding)
    }

    func testRejectsDanglingSingleCharacter() {
        assertDecodeError("Z", .invalidLength)
        assertDecodeError("Zm9vY", .invalidLength)
    }

    func testRoundTripsEveryLengthAgainstFoundation() throws {
        var generator = SplitMix64(seed: 7)
        for length in 0..<300 {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let encoded = Base64.encodeToString(bytes)
            XCTAssertEqual(encoded, Data(bytes).base64EncodedString(), "length \(length)")
            XCTAssertEqual(try Base64.decode(encoded), bytes, "length \(length)")
        }
    }

    func testPointerEncodeReportsCharactersWritten() {
        let source: [UInt8] = [1, 2, 3, 4]
        var destination = [UInt8](repeating: 0, count: 12)
        let written = source.withUnsafeBufferPointer { input in
            destination.withUnsafeMutableBufferPointer { Base64.encode(input, into: $0) }
        }
        XCTAssertEqual(written, 8)
        XCTAssertEqual(Array(destination[..<written]), Array("AQIDBA==".utf8))
        XCTAssertEqual(Array(destination[written...]), [0, 0, 0, 0], "must not write past the result")
    }
}
