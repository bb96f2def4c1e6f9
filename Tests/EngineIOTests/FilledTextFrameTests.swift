import Glibc
import Synchronization
import XCTest

@testable import HTTPKit
@testable import Transport

/// `WebSocketConnection.sendText(length:filling:)`: a message written through a `RawByteWriter` reaches the
/// peer as the frame the encoder builds for the same payload, whether it is framed in stack memory (up to
/// `stackFramePayloadLimit` bytes) or appended to the output buffer (larger), and after what was queued first.
final class FilledTextFrameTests: XCTestCase {
    private var group: EventLoopGroup?
    private var listener: TCPListener?
    private let accepted = AcceptedConnectionList()

    override func tearDown() {
        self.listener?.close()
        self.group?.shutdown(timeoutSeconds: 5)
        (self.listener, self.group) = (nil, nil)
        super.tearDown()
    }

    func testWrittenHeaderMatchesTheAppendedOne() {
        for length in [0, 1, 125, 126, 1020, 65535, 65536, 1 << 40] {
            var appended: [UInt8] = []
            WebSocketFrameEncoder.headerBytes(opcode: .text, payloadLength: length, into: &appended)
            var written = [UInt8](repeating: 0, count: 16)
            let count = written.withUnsafeMutableBytes { bytes in
                var writer = RawByteWriter(bytes)
                WebSocketFrameEncoder.writeHeader(opcode: .text, payloadLength: length, into: &writer)
                return writer.count
            }
            XCTAssertEqual(Array(written[0..<count]), appended, "payload length \(length)")
        }
    }

    func testFilledMessagesReachThePeerAsEncodedFrames() throws {
        let group = try EventLoopGroup(loopCount: 1)
        self.group = group
        let listener = try TCPListener(host: "127.0.0.1", port: 0, group: group) { [accepted] connection in
            accepted.list.withLock { $0.append(connection) }
        }
        self.listener = listener
        let client = try TestSocket(port: listener.address.port)
        XCTAssertTrue(TestDeadline.wait(timeout: 5) { self.accepted.list.withLock { !$0.isEmpty } }, "accepted")
        let connection = try XCTUnwrap(self.accepted.list.withLock { $0.first })
        let loop = group.loops[0]
        let limit = WebSocketConnection.stackFramePayloadLimit
        let lengths = [0, 5, 125, 126, limit, limit + 1, 70_000]
        let payloads = lengths.map { length in (0..<length).map { UInt8(0x61 + $0 % 26) } }
        var expected = Array("first|".utf8)
        for payload in payloads { WebSocketFrameEncoder.encode(opcode: .text, payload: payload, into: &expected) }
        loop.runAndWait {
            let ws = WebSocketConnection(connection: connection, role: .server, maxMessageSize: 1 << 20, deflate: nil)
            connection.handler = ws
            connection.write(Array("first|".utf8))
            for payload in payloads {
                // Written in two parts, as the layers above write their prefix and then their packet.
                ws.sendText(length: payload.count) { writer in
                    let half = payload.count / 2
                    payload[..<half].withUnsafeBytes { writer.put($0) }
                    writer.put(payload[half...])
                }
            }
        }
        XCTAssertEqual(try client.receive(count: expected.count), expected)
    }
}

/// The connections a listener accepted, in order.
private final class AcceptedConnectionList: Sendable {
    let list = Mutex<[TCPConnection]>([])
}
