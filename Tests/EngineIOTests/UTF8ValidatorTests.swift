import XCTest

@testable import EngineIO
@testable import HTTPKit

final class UTF8ValidatorTests: XCTestCase {
    private func isValid(_ bytes: [UInt8]) -> Bool { UTF8Validator.isValid(bytes) }

    func testASCIIAndMultibyteTextIsValid() {
        XCTAssertTrue(isValid(Array("Hello-µ@ßöäüàá-UTF-8!!".utf8)))
        // "κόσμε", the classic Markus Kuhn test word.
        XCTAssertTrue(isValid([0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5]))
        XCTAssertTrue(isValid([]))
    }

    func testBoundaryCodePointsAreValid() {
        let valid: [[UInt8]] = [
            [0x00], [0x7F],  // U+0000, U+007F
            [0xC2, 0x80], [0xDF, 0xBF],  // U+0080, U+07FF
            [0xE0, 0xA0, 0x80], [0xEF, 0xBF, 0xBF],  // U+0800, U+FFFF
            [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80],  // U+D7FF, U+E000 (around the surrogates)
            [0xEF, 0xBF, 0xBD],  // U+FFFD
            [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF],  // U+10000, U+10FFFF
        ]
        for bytes in valid {
            XCTAssertTrue(isValid(bytes), "\(bytes)")
        }
    }

    func testOverlongEncodingsAreInvalid() {
        let overlong: [[UInt8]] = [
            [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xF0, 0x80, 0x80, 0xAF],  // "/" in 2, 3, 4 bytes
            [0xC1, 0xBF], [0xE0, 0x9F, 0xBF], [0xF0, 0x8F, 0xBF, 0xBF],  // largest overlongs
            [0xC0, 0x80], [0xE0, 0x80, 0x80], [0xF0, 0x80, 0x80, 0x80],  // overlong NUL
        ]
        for bytes in overlong {
            XCTAssertFalse(isValid(bytes), "\(bytes)")
        }
    }

    func testUTF16SurrogatesAreInvalid() {
        for bytes: [UInt8] in [
            [0xED, 0xA0, 0x80], [0xED, 0xAD, 0xBF], [0xED, 0xAE, 0x80], [0xED, 0xAF, 0xBF],
            [0xED, 0xB0, 0x80], [0xED, 0xBE, 0x80], [0xED, 0xBF, 0xBF],
            [0xED, 0xA0, 0x80, 0xED, 0xB0, 0x80],  // a surrogate pair, CESU-8 style
        ] {
            XCTAssertFalse(isValid(bytes), "\(bytes)")
        }
    }

    func testCodePointsAboveU10FFFFAreInvalid() {
        for bytes: [UInt8] in [
            [0xF4, 0x90, 0x80, 0x80],  // U+110000
            [0xF5, 0x80, 0x80, 0x80], [0xF7, 0xBF, 0xBF, 0xBF],
            [0xF8, 0x88, 0x80, 0x80, 0x80], [0xFC, 0x84, 0x80, 0x80, 0x80, 0x80],  // old 5/6-byte forms
            [0xFE], [0xFF], [0xFE, 0xFE, 0xFF, 0xFF],
        ] {
            XCTAssertFalse(isValid(bytes), "\(bytes)")
        }
    }

    func testStrayAndMissingContinuationBytesAreInvalid() {
        XCTAssertFalse(isValid([0x80]))
        XCTAssertFalse(isValid([0xBF]))
        XCTAssertFalse(isValid([0x41, 0x80, 0x41]))
        XCTAssertFalse(isValid([0xC2, 0x41]))  // lead byte followed by ASCII
        XCTAssertFalse(isValid([0xE1, 0x80, 0x41]))
        XCTAssertFalse(isValid([0xF1, 0x80, 0x80, 0x41]))
    }

    func testTruncatedSequenceIsValidPrefixButNotComplete() {
        var validator = UTF8Validator()
        XCTAssertTrue(validator.validate([0xCE, 0xBA, 0xE1, 0xBD] as [UInt8]))
        XCTAssertTrue(validator.isValid)
        XCTAssertFalse(validator.isComplete)
        XCTAssertFalse(UTF8Validator.isValid([0xCE, 0xBA, 0xE1, 0xBD]))
        XCTAssertTrue(validator.validate([0xB9] as [UInt8]))
        XCTAssertTrue(validator.isComplete)
    }

    func testCharactersSplitAcrossChunksAtEveryPositionValidate() {
        let text = Array("aé€😀z κόσμε 𝄞".utf8)
        for split in 0...text.count {
            var validator = UTF8Validator()
            XCTAssertTrue(validator.validate(text[..<split]))
            XCTAssertTrue(validator.validate(text[split...]))
            XCTAssertTrue(validator.isComplete, "split at \(split)")
        }
    }

    func testValidationFailsAtFirstImpossibleByte() {
        // κόσμε, then ED A0 80 (a surrogate): ED is still possible, A0 is not.
        let bytes: [UInt8] = [0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0, 0x80]
        var validator = UTF8Validator()
        for (index, byte) in bytes.enumerated() {
            let ok = validator.validate([byte])
            if index < 12 {
                XCTAssertTrue(ok, "byte \(index) should still be acceptable")
            } else {
                XCTAssertFalse(ok, "byte \(index) must be rejected")
                break
            }
        }
        XCTAssertEqual(validator.failureOffset, 12)
    }

    func testOverlongIsRejectedOnItsSecondByte() {
        var validator = UTF8Validator()
        XCTAssertTrue(validator.validate([0x41, 0xE0] as [UInt8]))
        XCTAssertFalse(validator.validate([0x9F] as [UInt8]))
        XCTAssertEqual(validator.failureOffset, 2)
    }

    func testInvalidStateIsStickyUntilReset() {
        var validator = UTF8Validator()
        XCTAssertFalse(validator.validate([0xFF] as [UInt8]))
        XCTAssertFalse(validator.validate(Array("fine".utf8)))
        XCTAssertFalse(validator.isValid)
        validator.reset()
        XCTAssertTrue(validator.validate(Array("fine".utf8)))
        XCTAssertTrue(validator.isComplete)
        XCTAssertNil(validator.failureOffset)
    }

    func testLongASCIIRunsWithLateErrorReportExactOffset() {
        // Exercises the 8-bytes-at-a-time ASCII path, including its tail handling.
        for length in [0, 1, 7, 8, 9, 15, 16, 17, 100] {
            var bytes = [UInt8](repeating: 0x61, count: length)
            bytes.append(0xC0)
            bytes.append(contentsOf: [UInt8](repeating: 0x61, count: 20))
            var validator = UTF8Validator()
            XCTAssertFalse(validator.validate(bytes))
            XCTAssertEqual(validator.failureOffset, length)
        }
    }

    func testShortTailsAfterASCIIAgreeWithStandardLibrary() {
        // The bytes after the last full 8-byte ASCII word take a per-byte ASCII shortcut: what follows an
        // ASCII run of every tail length must still be judged like the standard library does.
        let endings: [[UInt8]] = [
            [], [0x41], [0xC3, 0xA9], [0xE2, 0x82, 0xAC], [0xF0, 0x9F, 0x98, 0x80], [0xC3], [0xE2, 0x82],
            [0x80], [0xC0, 0x80], [0xFF], [0xED, 0xA0, 0x80], [0xC3, 0xA9, 0x41, 0x80], [0x41, 0xF5],
        ]
        for length in 0...17 {
            for ending in endings {
                let bytes = [UInt8](repeating: 0x7A, count: length) + ending
                let expected = String(validating: bytes, as: UTF8.self) != nil
                XCTAssertEqual(UTF8Validator.isValid(bytes), expected, "\(bytes)")
                // The same bytes fed in two chunks split inside the ASCII run agree too.
                var validator = UTF8Validator()
                let cut = length / 2
                let first = validator.validate(Array(bytes[..<cut]))
                let second = validator.validate(Array(bytes[cut...]))
                XCTAssertEqual(first && second && validator.isComplete, expected, "\(bytes) cut at \(cut)")
            }
        }
    }

    func testAgreesWithStandardLibraryOnAllTwoByteSequences() {
        for first in 0...255 {
            for second in 0...255 {
                let bytes = [UInt8(first), UInt8(second)]
                let expected = String(validating: bytes, as: UTF8.self) != nil
                XCTAssertEqual(UTF8Validator.isValid(bytes), expected, "\(bytes)")
            }
        }
    }

    func testAgreesWithStandardLibraryOnThreeByteSequencesFromLeadBytesE0ToF4() {
        for first in 0xE0...0xF4 {
            for second in 0x70...0xC0 {
                for third in [0x41, 0x80, 0xBF, 0xC0] {
                    let bytes = [UInt8(first), UInt8(second), UInt8(third)]
                    var validator = UTF8Validator()
                    let prefixValid = validator.validate(bytes)
                    // A 4-byte lead with two good continuations is a valid prefix; complete three-byte
                    // strings must agree with the standard library.
                    if validator.isComplete {
                        XCTAssertTrue(String(validating: bytes, as: UTF8.self) != nil, "\(bytes)")
                    } else if !prefixValid {
                        XCTAssertNil(String(validating: bytes + [0x80], as: UTF8.self), "\(bytes)")
                    }
                }
            }
        }
    }
}
