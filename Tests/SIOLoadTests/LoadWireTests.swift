@testable import sio_load
import XCTest

/// The generator's messages and its reading of answers, without sockets.
final class LoadWireTests: XCTestCase {
    private let wire = LoadWire(payloadBytes: 4)

    private func text(_ template: LoadWire.Template, ackID: Int?, _ first: UInt64, _ second: UInt64? = nil) -> String {
        var out: [UInt8] = []
        LoadWire.appendEvent(template, ackID: ackID, numbers: first, second, to: &out)
        XCTAssertEqual(out.count, LoadWire.eventLength(template, ackID: ackID, numbers: first, second))
        return String(decoding: out, as: UTF8.self)
    }

    private func answer(_ text: String) -> LoadWire.Answer {
        Array(text.utf8).withUnsafeBytes { self.wire.answer($0) }
    }

    func testMessagesHaveSioloadsShape() {
        let echo = self.wire.template(event: "echo")
        XCTAssertEqual(self.text(echo, ackID: nil, 123), #"42["echo",123,"xxxx"]"#)
        XCTAssertEqual(self.text(echo, ackID: nil, 0), #"42["echo",0,"xxxx"]"#)
        let ack = self.wire.template(event: "echo-ack")
        XCTAssertEqual(self.text(ack, ackID: 17, 9_876_543_210), #"4217["echo-ack",9876543210,"xxxx"]"#)
        let broadcast = self.wire.template(event: "broadcast", leadingArguments: [.string("bench")])
        XCTAssertEqual(self.text(broadcast, ackID: nil, 55, 3), #"42["broadcast","bench",55,3,"xxxx"]"#)
    }

    func testCanonicalAnswersAreRecognisedOnTheirBytes() {
        guard case .echo(55, true) = self.answer(#"2["echo",55,"xxxx"]"#) else { return XCTFail("echo") }
        guard case .ack(17, 9, true) = self.answer(#"317[9,"xxxx"]"#) else { return XCTFail("ack") }
        guard case .broadcast(5, 2, true) = self.answer(#"2["broadcast",5,2,"xxxx"]"#) else { return XCTFail("broadcast") }
        guard case .echo(55, false) = self.answer(#"2["echo",55,"xxxy"]"#) else { return XCTFail("altered echo") }
        guard case .echo(55, false) = self.answer(#"2["echo",55,"xxxx","more"]"#) else { return XCTFail("longer echo") }
    }

    func testOtherFormsGoThroughTheDecoder() {
        // Valid JSON a server could write differently: judged on decoded values.
        guard case .echo(55, true) = self.answer(#"2["echo", 55, "xxxx"]"#) else { return XCTFail("spaced echo") }
        guard case .ack(3, nil, true) = self.answer(#"33["bench"]"#) else { return XCTFail("join ack") }
        guard case .connected = self.answer(#"0{"sid":"abc"}"#) else { return XCTFail("connect") }
        guard case .refused = self.answer(#"4{"message":"no"}"#) else { return XCTFail("connect_error") }
        guard case .other = self.answer(#"2["news",1]"#) else { return XCTFail("other event") }
        guard case .malformed = self.answer(#"2["echo""#) else { return XCTFail("broken JSON") }
        // A truncated echo still has its timestamp: an answer, but not an intact one.
        guard case .echo(55, false) = self.answer(#"2["echo",55"#) else { return XCTFail("truncated") }
    }

    func testLatencyQuantilesFollowSioload() {
        var samples = LatencySamples()
        for value in (1...100).reversed() { samples.add(UInt64(value) * 1_000_000) }
        // Index ⌊q·n⌋ of the sorted samples.
        XCTAssertEqual(samples.quantileMillis(0.5), 51)
        XCTAssertEqual(samples.quantileMillis(0.99), 100)
        XCTAssertEqual(samples.maxMillis(), 100)
        XCTAssertEqual(samples.meanMillis, 50.5, accuracy: 1e-9)
    }
}
