import EngineIO
import Foundation
import HTTPKit
import Transport

/// A blocking WebSocket client for tests that offers permessage-deflate and shows what the wire carried:
/// each message comes with the RSV1 bit of its frame (set: the server compressed it) and its inflated bytes.
///
///     let ws = try TestDeflateWebSocketClient(port: port, target: "/engine.io/?EIO=4&transport=websocket")
///     try ws.sendText("4hello")
///     let echo = try ws.nextMessage()      // echo.compressed == false, echo.text == "4hello"
///
/// The server must send whole messages in single frames (ours always does); every read has a deadline.
final class TestDeflateWebSocketClient {
    /// One data message as received.
    struct Message {
        /// RSV1 of the frame: the payload was deflated.
        var compressed: Bool
        var opcode: WebSocketOpcode
        /// The message after inflating.
        var bytes: [UInt8]
        var text: String { String(decoding: self.bytes, as: UTF8.self) }
    }

    let http: TestHTTPClient
    /// The server's `Sec-WebSocket-Extensions` answer.
    let negotiated: String?
    private var input = ByteBuffer()
    private var decoder = WebSocketFrameDecoder(role: .client, maxPayloadLength: 64 * 1024 * 1024, allowsCompression: true)
    private let inflater: PerMessageDeflateDecompressor?
    private let timeout: TimeInterval

    /// Performs the opening handshake for `target` with a permessage-deflate offer.
    init(port: Int, target: String, timeout: TimeInterval = 5) throws {
        let configuration = PerMessageDeflateConfiguration()
        let http = try TestHTTPClient(port: port, timeout: timeout)
        let key = WebSocketHandshake.makeClientKey()
        let offer = PerMessageDeflate.clientOffer(configuration: configuration)
        let headers = WebSocketHandshake.clientRequestHeaders(key: key, extensions: offer).map { ($0.name, $0.value) }
        try http.socket.send(TestHTTPClient.encodeRequest(method: "GET", target: target, port: port, headers: headers))
        let response = try http.readResponse(timeout: timeout)
        guard response.status == 101 else {
            throw TestClientError.protocolViolation("upgrade refused with \(response.status): \(response.text)")
        }
        self.negotiated = response.header("Sec-WebSocket-Extensions")
        let parameters = try PerMessageDeflate.parseServerResponse(self.negotiated, configuration: configuration)
        self.inflater = parameters?.makeDecompressor(role: .client)
        self.http = http
        self.timeout = timeout
        self.input.append(contentsOf: http.takeBufferedBytes())
    }

    /// Sends an uncompressed text frame (masked, as a client must).
    func sendText(_ text: String) throws {
        var out: [UInt8] = []
        WebSocketFrameEncoder.encode(opcode: .text, payload: Array(text.utf8), maskingKey: .random(), into: &out)
        try self.http.socket.send(out)
    }

    /// The next text or binary message; pings, pongs and anything after a close are errors.
    func nextMessage() throws -> Message {
        let deadline = TestDeadline.after(self.timeout)
        while true {
            if let frame = try self.decoder.next(from: &self.input) {
                self.input.discardReadBytes()
                switch frame.opcode {
                case .text, .binary:
                    guard frame.fin else { throw TestClientError.protocolViolation("fragmented message") }
                    var bytes = frame.payload
                    if frame.rsv1 {
                        guard let inflater = self.inflater else { throw TestClientError.protocolViolation("RSV1 without deflate") }
                        bytes = try inflater.decompress(frame.payload, limit: 64 * 1024 * 1024)
                    }
                    return Message(compressed: frame.rsv1, opcode: frame.opcode, bytes: bytes)
                default:
                    throw TestClientError.protocolViolation("unexpected \(frame.opcode) frame")
                }
            }
            switch self.http.socket.receive(deadline: deadline) {
            case .bytes(let bytes): self.input.append(contentsOf: bytes)
            case .closed: throw TestClientError.connectionClosed("a WebSocket message")
            case .timedOut: throw TestClientError.timedOut("a WebSocket message")
            }
        }
    }

    func close() { self.http.socket.close() }
}
