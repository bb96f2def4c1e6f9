import Transport
import XCTest

/// `ByteWord.isPlainJSONText` decides whether an id is copied between JSON quotes as it is: a byte that needs
/// escaping must be found wherever it sits, in the eight-byte words or in the tail behind them.
final class ByteWordJSONTextTests: XCTestCase {
    private func isPlain(_ bytes: [UInt8], asciiOnly: Bool) -> Bool {
        bytes.withUnsafeBufferPointer { ByteWord.isPlainJSONText($0, asciiOnly: asciiOnly) }
    }

    func testGeneratedIdsArePlain() {
        let id = Array("lv_VI97HAXpY6yYWAAAC".utf8)
        XCTAssertTrue(self.isPlain(id, asciiOnly: true))
        XCTAssertTrue(self.isPlain(id, asciiOnly: false))
        XCTAssertTrue(self.isPlain([], asciiOnly: true))
    }

    func testEscapedByteIsFoundAtEveryPosition() {
        for special: UInt8 in [0x22, 0x5C, 0x00, 0x0A, 0x1F] {
            for position in 0..<20 {
                var bytes = Array("abcdefghijklmnopqrst".utf8)
                bytes[position] = special
                XCTAssertFalse(self.isPlain(bytes, asciiOnly: false), "byte \(special) at \(position)")
                XCTAssertFalse(self.isPlain(bytes, asciiOnly: true), "byte \(special) at \(position)")
            }
        }
    }

    func testNonASCIIIsRefusedOnlyWhenAsked() {
        for position in 0..<19 {
            var bytes = Array("abcdefghijklmnopqrst".utf8)
            bytes[position] = 0xC3
            bytes[position + 1] = 0xA9  // é
            XCTAssertTrue(self.isPlain(bytes, asciiOnly: false), "é at \(position)")
            XCTAssertFalse(self.isPlain(bytes, asciiOnly: true), "é at \(position)")
        }
        // Bytes just above the control range and DEL are plain.
        XCTAssertTrue(self.isPlain(Array(" !#[]~\u{7F} !#[]~\u{7F}".utf8), asciiOnly: true))
    }
}
