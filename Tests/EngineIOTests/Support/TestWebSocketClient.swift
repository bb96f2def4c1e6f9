import EngineIO
import Foundation
import HTTPKit
import Transport

/// A minimal blocking WebSocket client for tests, built on the package's own codec in the client role:
/// frames are written with `WebSocketFrameEncoder` (masked with a fresh random key each) and read with
/// `WebSocketMessageAssembler(role: .client)` (so unmasked-only, fragment reassembly, UTF-8 checks and
/// close-frame validation all apply to what the server sends). No permessage-deflate is offered.
///
///     let ws = try TestWebSocketClient.connect(port: port, target: "/engine.io/?EIO=4&transport=websocket")
///     try ws.sendText("4hello")
///     let event = try ws.nextMessage()       // .text("4hello")
///
/// Every read has a deadline; a server that says nothing fails the test with `TestClientError.timedOut`.
final class TestWebSocketClient {
    /// What the server sent.
    enum Event: Equatable, CustomStringConvertible {
        case text(String)
        case binary([UInt8])
        case ping([UInt8])
        case pong([UInt8])
        /// A close frame (code nil when it had no payload).
        case close(code: UInt16?)
        /// The TCP connection ended (EOF or reset) without a close frame.
        case closedWithoutFrame

        var description: String {
            switch self {
            case .text(let text): return "text(\(text.debugDescription))"
            case .binary(let bytes): return "binary(\(bytes))"
            case .ping(let bytes): return "ping(\(bytes))"
            case .pong(let bytes): return "pong(\(bytes))"
            case .close(let code): return "close(\(code.map(String.init) ?? "none"))"
            case .closedWithoutFrame: return "closedWithoutFrame"
            }
        }
    }

    /// The outcome of an opening handshake attempt.
    enum HandshakeOutcome {
        case upgraded(TestWebSocketClient)
        /// The server answered with another status (its response, body included).
        case rejected(TestHTTPResponse)
        /// The server closed the connection without a complete response.
        case closedWithoutResponse
    }

    let http: TestHTTPClient
    /// The 101 response.
    let handshakeResponse: TestHTTPResponse
    /// Default seconds a read waits.
    var timeout: TimeInterval
    private var input = ByteBuffer()
    private let assembler = WebSocketMessageAssembler(role: .client, maxMessageSize: 64 * 1024 * 1024, permessageDeflate: nil)
    private var sawEnd = false

    private init(http: TestHTTPClient, response: TestHTTPResponse, leftover: [UInt8], timeout: TimeInterval) {
        self.http = http
        self.handshakeResponse = response
        self.timeout = timeout
        self.input.append(contentsOf: leftover)
    }

    /// Performs the opening handshake for `target` (path and query) and reports how it went.
    ///
    /// `pipelinedTexts` are sent as text frames in the same write as the upgrade request, before the 101
    /// arrives (a fast client may do that; the server must treat them as the first WebSocket messages).
    static func attempt(port: Int, target: String, timeout: TimeInterval = 5, extraHeaders: [(String, String)] = [],
                        pipelinedTexts: [String] = []) throws -> HandshakeOutcome {
        let http = try TestHTTPClient(port: port, timeout: timeout)
        let key = WebSocketHandshake.makeClientKey()
        let headers = WebSocketHandshake.clientRequestHeaders(key: key).map { ($0.name, $0.value) } + extraHeaders
        var request = TestHTTPClient.encodeRequest(method: "GET", target: target, port: port, headers: headers)
        for text in pipelinedTexts {
            WebSocketFrameEncoder.encode(opcode: .text, payload: Array(text.utf8), maskingKey: .random(), into: &request)
        }
        try http.socket.send(request)
        let response: TestHTTPResponse
        do {
            response = try http.readResponse(timeout: timeout)
        } catch TestClientError.connectionClosed {
            return .closedWithoutResponse
        }
        guard response.status == 101 else { return .rejected(response) }
        do {
            try WebSocketHandshake.validateUpgradeResponse(
                status: response.status, upgrade: response.header("Upgrade"), connection: response.header("Connection"),
                accept: response.header("Sec-WebSocket-Accept"), key: key)
        } catch {
            throw TestClientError.protocolViolation("bad 101 response: \(error)")
        }
        if response.header("Sec-WebSocket-Extensions") != nil {
            throw TestClientError.protocolViolation("server negotiated an extension that was not offered")
        }
        return .upgraded(TestWebSocketClient(http: http, response: response, leftover: http.takeBufferedBytes(), timeout: timeout))
    }

    /// Performs the opening handshake and throws unless the server answers 101.
    static func connect(port: Int, target: String, timeout: TimeInterval = 5, pipelinedTexts: [String] = []) throws -> TestWebSocketClient {
        switch try self.attempt(port: port, target: target, timeout: timeout, pipelinedTexts: pipelinedTexts) {
        case .upgraded(let client): return client
        case .rejected(let response):
            throw TestClientError.protocolViolation("upgrade refused with \(response.status): \(response.text)")
        case .closedWithoutResponse:
            throw TestClientError.connectionClosed("101 response")
        }
    }

    // MARK: Sending

    /// Sends one frame (masked, as a client must). Control frames must carry at most 125 bytes.
    func sendFrame(opcode: WebSocketOpcode, payload: [UInt8], fin: Bool = true) throws {
        var out: [UInt8] = []
        WebSocketFrameEncoder.encode(opcode: opcode, payload: payload, fin: fin, maskingKey: .random(), into: &out)
        try self.http.socket.send(out)
    }

    func sendText(_ text: String) throws { try self.sendFrame(opcode: .text, payload: Array(text.utf8)) }
    func sendBinary(_ bytes: [UInt8]) throws { try self.sendFrame(opcode: .binary, payload: bytes) }

    /// Sends many text messages in one write (to test ordering under load without a round trip each).
    func sendTexts(_ texts: [String]) throws {
        var out: [UInt8] = []
        for text in texts {
            WebSocketFrameEncoder.encode(opcode: .text, payload: Array(text.utf8), maskingKey: .random(), into: &out)
        }
        try self.http.socket.send(out)
    }

    /// Sends a close frame.
    func sendClose(code: UInt16? = 1000) throws {
        try self.sendFrame(opcode: .close, payload: WebSocketFrameEncoder.closePayload(code: code))
    }

    func close() { self.http.socket.close() }

    // MARK: Receiving

    /// The next thing the server sent: a message, a control frame, or the end of the connection. After
    /// the end it keeps returning `.closedWithoutFrame`.
    func nextEvent(timeout: TimeInterval? = nil) throws -> Event {
        let deadline = TestDeadline.after(timeout ?? self.timeout)
        while true {
            if self.sawEnd { return .closedWithoutFrame }
            let event: WebSocketMessageAssembler.Event?
            do {
                event = try self.assembler.next(from: &self.input)
            } catch {
                throw TestClientError.protocolViolation("server sent an invalid frame: \(error)")
            }
            if let event {
                self.input.discardReadBytes()
                switch event {
                case .text(let bytes): return .text(String(decoding: bytes, as: UTF8.self))
                case .binary(let bytes): return .binary(bytes)
                case .ping(let payload): return .ping(payload)
                case .pong(let payload): return .pong(payload)
                case .close(let code, _):
                    self.sawEnd = true
                    return .close(code: code)
                }
            }
            switch self.http.socket.receive(deadline: deadline) {
            case .bytes(let bytes): self.input.append(contentsOf: bytes)
            case .closed:
                self.sawEnd = true
                return .closedWithoutFrame
            case .timedOut: throw TestClientError.timedOut("a WebSocket frame")
            }
        }
    }

    /// The next data message, or the end of the connection; WebSocket pings are answered and pongs skipped.
    func nextMessage(timeout: TimeInterval? = nil) throws -> Event {
        let deadline = TestDeadline.after(timeout ?? self.timeout)
        while true {
            let event = try self.nextEvent(timeout: max(0.001, deadline.timeIntervalSinceNow))
            switch event {
            case .ping(let payload): try? self.sendFrame(opcode: .pong, payload: payload)
            case .pong: continue
            default: return event
            }
        }
    }

    /// The next text message; throws if anything else (binary, close) comes first.
    func nextText(timeout: TimeInterval? = nil) throws -> String {
        let event = try self.nextMessage(timeout: timeout)
        guard case .text(let text) = event else { throw TestClientError.protocolViolation("expected a text message, got \(event)") }
        return text
    }

    /// Waits until the server ends the connection (close frame or EOF), skipping any messages on the way;
    /// returns the close event, or nil when `timeout` passes first.
    func waitForClose(timeout: TimeInterval = 3) -> Event? {
        let deadline = TestDeadline.after(timeout)
        while deadline.timeIntervalSinceNow > 0 {
            guard let event = try? self.nextEvent(timeout: max(0.001, deadline.timeIntervalSinceNow)) else { return nil }
            switch event {
            case .close, .closedWithoutFrame: return event
            default: continue
            }
        }
        return nil
    }
}
