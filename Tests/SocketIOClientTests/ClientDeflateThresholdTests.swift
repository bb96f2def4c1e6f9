import EngineIO
import Foundation
import HTTPKit
@testable import SocketIOClient
import Synchronization
import Transport
import XCTest

/// Which messages the client deflates, seen in the RSV1 bit of the frames a server receives: as `ws`, short
/// ones go out plain and only those at or above the threshold compressed.
final class ClientDeflateThresholdTests: XCTestCase {
    func testShortMessagesGoOutUncompressedLongOnesCompressed() async throws {
        let peer = try DeflatePeer()
        defer { peer.shutdown() }
        var options = SocketManagerOptions()
        options.transports = [.websocket]
        options.reconnection = false
        options.perMessageDeflate = true
        let manager = try SocketManager(url: "http://127.0.0.1:\(peer.port)", options: options)
        defer { manager.disconnect() }
        let socket = manager.socket("/")
        try await socket.waitForConnection()

        let long = String((0..<4096).map { Character(UnicodeScalar(UInt8(97 + $0 % 26))) })
        socket.emit("short", "hi")
        socket.emit("long", .string(long))
        let frames = try await peer.waitForFrames(3)  // CONNECT, then the two events

        XCTAssertEqual(frames[0].text, "40")
        XCTAssertFalse(frames[0].compressed)
        XCTAssertEqual(frames[1].text, #"42["short","hi"]"#)
        XCTAssertFalse(frames[1].compressed, "under 1,024 bytes: plain")
        XCTAssertEqual(frames[2].text, #"42["long",""# + long + #""]"#)
        XCTAssertTrue(frames[2].compressed, "4 KB: compressed")
    }
}

/// A WebSocket peer that accepts permessage-deflate, opens an Engine.IO session, admits the Socket.IO
/// connect, and records every text frame the client sends with its RSV1 bit (payloads inflated).
private final class DeflatePeer: Sendable {
    struct Frame: Sendable {
        let compressed: Bool
        let text: String
    }

    private let group: EventLoopGroup
    private let listener: TCPListener
    private let log: FrameLog

    init() throws {
        let group = try EventLoopGroup(loopCount: 1)
        let log = FrameLog()
        self.group = group
        self.log = log
        self.listener = try TCPListener(host: "127.0.0.1", port: 0, group: group) { connection in
            connection.handler = DeflatePeerHandler { frame in log.frames.withLock { $0.append(frame) } }
        }
    }

    private final class FrameLog: Sendable {
        let frames = Mutex<[Frame]>([])
    }

    var port: Int { self.listener.address.port }

    func waitForFrames(_ count: Int) async throws -> [Frame] {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let seen = self.log.frames.withLock { $0 }
            if seen.count >= count { return seen }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw CocoaError(.coderValueNotFound, userInfo: [NSDebugDescriptionErrorKey: "frames: \(self.log.frames.withLock { $0 })"])
    }

    func shutdown() {
        self.listener.close()
        self.group.shutdown(timeoutSeconds: 2)
    }
}

private final class DeflatePeerHandler: ConnectionHandler, @unchecked Sendable {
    private let record: (DeflatePeer.Frame) -> Void
    private var upgraded = false
    private var decoder = WebSocketFrameDecoder(role: .server, maxPayloadLength: 1 << 20, allowsCompression: true)
    private let inflater = PerMessageDeflateDecompressor()

    init(record: @escaping (DeflatePeer.Frame) -> Void) {
        self.record = record
    }

    func connectionRead(_ connection: TCPConnection, _ buffer: inout ByteBuffer) {
        if !self.upgraded {
            let bytes = buffer.readableArray
            guard let end = Self.headEnd(bytes) else { return }
            buffer.moveReaderIndex(forwardBy: end + 4)
            let head = String(decoding: bytes[..<end], as: UTF8.self)
            let key = head.split(separator: "\r\n")
                .first { $0.lowercased().hasPrefix("sec-websocket-key:") }
                .map { $0.dropFirst("sec-websocket-key:".count).trimmingCharacters(in: .whitespaces) } ?? ""
            connection.write(Array(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: \(WebSocketHandshake.acceptValue(forKey: key))\r\n"
                + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n").utf8))
            self.upgraded = true
            self.sendText(#"0{"sid":"deflatepeer","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#, on: connection)
        }
        while let frame = try? self.decoder.next(from: &buffer) {
            guard frame.opcode == .text else { continue }
            let payload = frame.rsv1 ? ((try? self.inflater.decompress(frame.payload, limit: 1 << 20)) ?? []) : frame.payload
            let text = String(decoding: payload, as: UTF8.self)
            self.record(DeflatePeer.Frame(compressed: frame.rsv1, text: text))
            if text == "40" { self.sendText(#"40{"sid":"s1"}"#, on: connection) }
        }
    }

    func connectionWritable(_ connection: TCPConnection) {}
    func connectionClosed(_ connection: TCPConnection, error: Int32?) {}

    /// An unmasked, uncompressed text frame (server to client), payload under 126 bytes.
    private func sendText(_ text: String, on connection: TCPConnection) {
        let payload = Array(text.utf8)
        connection.write([0x81, UInt8(payload.count)] + payload)
    }

    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        bytes.indices.first { i in
            i + 3 < bytes.count && bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10
        }
    }
}
