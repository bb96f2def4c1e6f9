import XCTest

@testable import Redis

/// Commands as bytes on the wire.
final class RESPEncoderTests: XCTestCase {
    private func encoded(_ arguments: [RedisArgument]) -> String {
        var out: [UInt8] = []
        RESPEncoder.appendCommand(arguments, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    func testEncodesTextBytesAndNumbers() {
        XCTAssertEqual(self.encoded(["SET", "key", RedisArgument([0, 13, 10, 255])]),
                       "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$4\r\n\u{0}\r\n\u{FFFD}\r\n")
        var out: [UInt8] = []
        RESPEncoder.appendCommand(["SET", "k", RedisArgument([0, 13, 10, 255])], into: &out)
        XCTAssertEqual(Array(out.suffix(9)), [52, 13, 10, 0, 13, 10, 255, 13, 10], "length then the raw bytes")
        XCTAssertEqual(self.encoded(["SELECT", 0]), "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n")
        XCTAssertEqual(self.encoded(["EXPIRE", "k", RedisArgument(-1234567)]), "*3\r\n$6\r\nEXPIRE\r\n$1\r\nk\r\n$8\r\n-1234567\r\n")
        XCTAssertEqual(self.encoded(["INCRBY", "k", RedisArgument(Int.min)]),
                       "*3\r\n$6\r\nINCRBY\r\n$1\r\nk\r\n$20\r\n-9223372036854775808\r\n")
        XCTAssertEqual(self.encoded(["ECHO", "héllo"]), "*2\r\n$4\r\nECHO\r\n$6\r\nhéllo\r\n", "lengths count UTF-8 bytes")
        XCTAssertEqual(self.encoded(["PING"]), "*1\r\n$4\r\nPING\r\n")
        XCTAssertEqual(self.encoded(["ECHO", ""]), "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n")
    }

    func testEncodesPublishLikeTheGeneralCommand() {
        var publish: [UInt8] = []
        RESPEncoder.appendPublish(channel: "socket.io#/#", payload: [1, 2, 3], into: &publish)
        var general: [UInt8] = []
        RESPEncoder.appendCommand(["PUBLISH", "socket.io#/#", RedisArgument([1, 2, 3])], into: &general)
        XCTAssertEqual(publish, general)
    }

    func testDecimalLengthMatchesDigits() {
        for number in [0, 9, 10, 99, 100, -1, -9, -10, 123_456_789, Int.max, Int.min] {
            var out: [UInt8] = []
            RESPEncoder.appendDecimal(number, into: &out)
            XCTAssertEqual(String(decoding: out, as: UTF8.self), String(number))
            XCTAssertEqual(RESPEncoder.decimalLength(number), out.count)
        }
    }
}
