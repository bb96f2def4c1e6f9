import EngineIO
import HTTPKit
import XCTest

/// Which messages an Engine.IO server deflates, seen in the RSV1 bit of the frames a client receives:
/// short ones go out plain (as Node's `perMessageDeflate.threshold`), long ones compressed, and
/// `compress: false` sends plain whatever the size.
final class PerMessageDeflateThresholdTests: XCTestCase {
    private func makeServer(threshold: Int? = nil) throws -> TestEngineServer {
        try TestEngineServer { options in
            options.perMessageDeflate = true
            if let threshold { options.perMessageDeflateThreshold = threshold }
            // No heartbeat in the middle of the frames under test.
            options.pingInterval = 60_000
            options.pingTimeout = 60_000
        }
    }

    /// Connects over WebSocket with a deflate offer; returns the client, its session id and the open packet.
    private func connect(_ server: TestEngineServer) throws -> (TestDeflateWebSocketClient, String, TestDeflateWebSocketClient.Message) {
        let ws = try TestDeflateWebSocketClient(port: server.port, target: server.websocketTarget())
        XCTAssertEqual(ws.negotiated, "permessage-deflate")
        let open = try ws.nextMessage()
        let handshake = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(open.bytes.dropFirst())) as? [String: Any])
        return (ws, try XCTUnwrap(handshake["sid"] as? String), open)
    }

    func testMessagesUnderTheThresholdGoOutUncompressed() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let (ws, _, open) = try connect(server)
        defer { ws.close() }
        XCTAssertEqual(EngineServerOptions().perMessageDeflateThreshold, 1024)
        XCTAssertFalse(open.compressed, "the open packet is short")

        try ws.sendText("4hello")
        let short = try ws.nextMessage()
        XCTAssertFalse(short.compressed)
        XCTAssertEqual(short.text, "4hello")

        // The threshold counts the whole frame payload, packet type included: 1023 bytes stay plain.
        let justUnder = "4" + String(repeating: "a", count: 1022)
        try ws.sendText(justUnder)
        let under = try ws.nextMessage()
        XCTAssertFalse(under.compressed)
        XCTAssertEqual(under.text, justUnder)

        let atThreshold = "4" + String(repeating: "b", count: 1023)
        try ws.sendText(atThreshold)
        let at = try ws.nextMessage()
        XCTAssertTrue(at.compressed)
        XCTAssertEqual(at.text, atThreshold)

        let long = "4" + String((0..<4096).map { Character(UnicodeScalar(UInt8(97 + $0 % 26))) })
        try ws.sendText(long)
        let big = try ws.nextMessage()
        XCTAssertTrue(big.compressed)
        XCTAssertEqual(big.text, long)
    }

    func testThresholdIsAnOption() throws {
        let server = try makeServer(threshold: 0)
        defer { server.shutdown() }
        let (ws, _, open) = try connect(server)
        defer { ws.close() }
        XCTAssertTrue(open.compressed, "threshold 0 compresses even the open packet")
        try ws.sendText("4hi")
        let echo = try ws.nextMessage()
        XCTAssertTrue(echo.compressed)
        XCTAssertEqual(echo.text, "4hi")
    }

    func testCompressFalseSendsPlainFramesAtAnySize() throws {
        let server = try makeServer(threshold: 0)
        defer { server.shutdown() }
        let (ws, sid, _) = try connect(server)
        defer { ws.close() }

        let long = String(repeating: "x", count: 4096)
        let binary = [UInt8](repeating: 7, count: 4096)
        server.onLoop(of: sid) { session in
            session.send(text: Array(long.utf8), compress: false)
            session.send(text: long.utf8, compress: false)
            session.send(binary: binary, compress: false)
            session.send(text: Array(long.utf8))
            session.send(binary: binary)
        }
        for _ in 0..<2 {
            let text = try ws.nextMessage()
            XCTAssertFalse(text.compressed)
            XCTAssertEqual(text.text, "4" + long)
        }
        let plainBinary = try ws.nextMessage()
        XCTAssertFalse(plainBinary.compressed)
        XCTAssertEqual(plainBinary.opcode, .binary)
        XCTAssertEqual(plainBinary.bytes, binary)
        let compressedText = try ws.nextMessage()
        XCTAssertTrue(compressedText.compressed)
        XCTAssertEqual(compressedText.text, "4" + long)
        let compressedBinary = try ws.nextMessage()
        XCTAssertTrue(compressedBinary.compressed)
        XCTAssertEqual(compressedBinary.bytes, binary)
    }

    /// A message framed once for many sessions (a broadcast) is compressed per connection like any other:
    /// plain under the threshold or with `compress: false` (the shared frame itself), deflated above it.
    func testSharedMessageFollowsTheThresholdAndCompressFalse() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let (ws, sid, _) = try connect(server)
        defer { ws.close() }
        let short = EngineSharedMessage(text: Array("hello".utf8))
        let long = EngineSharedMessage(text: Array(String(repeating: "y", count: 4096).utf8))
        server.onLoop(of: sid) { session in
            session.send(short)
            session.send(long)
            session.send(long, compress: false)
        }
        let first = try ws.nextMessage()
        XCTAssertFalse(first.compressed)
        XCTAssertEqual(first.text, "4hello")
        let deflated = try ws.nextMessage()
        XCTAssertTrue(deflated.compressed)
        XCTAssertEqual(deflated.text, "4" + String(repeating: "y", count: 4096))
        let plain = try ws.nextMessage()
        XCTAssertFalse(plain.compressed)
        XCTAssertEqual(plain.text, "4" + String(repeating: "y", count: 4096))
    }
}
