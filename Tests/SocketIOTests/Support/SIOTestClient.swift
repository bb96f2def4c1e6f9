import EngineIO
import Foundation
import HTTPKit
import Transport

/// A blocking Engine.IO + Socket.IO client over a real WebSocket, for tests: frames are written with the
/// package's `WebSocketFrameEncoder` (masked) and read with `WebSocketMessageAssembler` in the client role.
/// Messages are Engine.IO packets as text (`"40"`, `"42[...]"`) or binary attachments; pings are answered
/// while reading unless `answerPings` is off.
///
///     let client = try SIOTestClient(port: server.port)
///     let sid = try client.connectNamespace("/")
///     try client.send(#"42["message","hi"]"#)
///     XCTAssertEqual(try client.nextText(), #"42["message-back","hi"]"#)
final class SIOTestClient: @unchecked Sendable {
    // Invariant for @unchecked Sendable: a client is used by one thread at a time (tests may create
    // clients on several threads and hand them back to the test's thread).
    enum Message: Equatable, CustomStringConvertible {
        /// An Engine.IO text packet, type digit included (`"42[...]"`, `"2"`).
        case text(String)
        case binary([UInt8])
        /// The connection ended (close frame or EOF).
        case closed

        var description: String {
            switch self {
            case .text(let text): return "text(\(text))"
            case .binary(let bytes): return "binary(\(bytes))"
            case .closed: return "closed"
            }
        }
    }

    private let socket: SIOTestSocket
    private var input = ByteBuffer()
    private let assembler = WebSocketMessageAssembler(role: .client, maxMessageSize: 64 * 1024 * 1024, permessageDeflate: nil)
    private var ended = false
    /// The Engine.IO handshake (`0{...}` without the `0`).
    private(set) var openPacket: String = ""
    /// Whether Engine.IO pings are answered (and hidden) while reading.
    var answerPings = true
    var timeout: TimeInterval = 5

    /// Opens `path?EIO=4&transport=websocket` and reads the Engine.IO open packet.
    init(port: Int, path: String = "/socket.io/", query: String = "") throws {
        self.socket = try SIOTestSocket(port: port)
        let key = WebSocketHandshake.makeClientKey()
        var request = "GET \(path)?EIO=4&transport=websocket\(query) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n"
        for (name, value) in WebSocketHandshake.clientRequestHeaders(key: key) { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        try self.socket.send(Array(request.utf8))
        var head: [UInt8] = []
        let deadline = Date(timeIntervalSinceNow: 5)
        while true {
            if let end = Self.headEnd(head) {
                let text = String(decoding: head[..<end], as: UTF8.self)
                guard text.hasPrefix("HTTP/1.1 101") else { throw SIOTestError.unexpected("handshake answered \(text)") }
                self.input.append(contentsOf: head[(end + 4)...])
                break
            }
            switch self.socket.receive(deadline: deadline) {
            case .bytes(let bytes): head += bytes
            case .closed: throw SIOTestError.closed("101 response")
            case .timedOut: throw SIOTestError.timedOut("101 response")
            }
        }
        let open = try self.nextText()
        guard open.hasPrefix("0") else { throw SIOTestError.unexpected("open packet \(open)") }
        self.openPacket = String(open.dropFirst())
    }

    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }

    // MARK: Sending

    /// Sends one Engine.IO text packet (`"40"`, `"42[...]"`).
    func send(_ text: String) throws {
        try self.sendFrame(.text, Array(text.utf8))
    }

    /// Sends several text packets in one write.
    func send(batch texts: [String]) throws {
        var out: [UInt8] = []
        for text in texts {
            WebSocketFrameEncoder.encode(opcode: .text, payload: Array(text.utf8), fin: true, maskingKey: .random(), into: &out)
        }
        try self.socket.send(out)
    }

    /// Sends a binary attachment.
    func send(binary bytes: [UInt8]) throws {
        try self.sendFrame(.binary, bytes)
    }

    private func sendFrame(_ opcode: WebSocketOpcode, _ payload: [UInt8]) throws {
        var out: [UInt8] = []
        WebSocketFrameEncoder.encode(opcode: opcode, payload: payload, fin: true, maskingKey: .random(), into: &out)
        try self.socket.send(out)
    }

    /// Closes the WebSocket politely.
    func sendClose() throws {
        try self.sendFrame(.close, WebSocketFrameEncoder.closePayload(code: 1000))
    }

    func close() { self.socket.close() }

    // MARK: Receiving

    /// The next Engine.IO message (pings answered and skipped unless `answerPings` is off).
    func next(timeout: TimeInterval? = nil) throws -> Message {
        let deadline = Date(timeIntervalSinceNow: timeout ?? self.timeout)
        while true {
            if self.ended { return .closed }
            let event: WebSocketMessageAssembler.Event?
            do {
                event = try self.assembler.next(from: &self.input)
            } catch {
                throw SIOTestError.unexpected("invalid frame: \(error)")
            }
            if let event {
                self.input.discardReadBytes()
                switch event {
                case .text(let bytes):
                    let text = String(decoding: bytes, as: UTF8.self)
                    if text == "2" && self.answerPings {
                        try? self.send("3")
                        continue
                    }
                    return .text(text)
                case .binary(let bytes):
                    return .binary(bytes)
                case .ping(let payload):
                    try? self.sendFrame(.pong, payload)
                case .pong:
                    continue
                case .close:
                    self.ended = true
                    return .closed
                }
                continue
            }
            switch self.socket.receive(deadline: deadline) {
            case .bytes(let bytes): self.input.append(contentsOf: bytes)
            case .closed:
                self.ended = true
                return .closed
            case .timedOut:
                throw SIOTestError.timedOut("a message")
            }
        }
    }

    /// The next text packet; throws if something else comes first.
    func nextText(timeout: TimeInterval? = nil) throws -> String {
        let message = try self.next(timeout: timeout)
        guard case .text(let text) = message else { throw SIOTestError.unexpected("expected text, got \(message)") }
        return text
    }

    /// The next binary message.
    func nextBinary(timeout: TimeInterval? = nil) throws -> [UInt8] {
        let message = try self.next(timeout: timeout)
        guard case .binary(let bytes) = message else { throw SIOTestError.unexpected("expected binary, got \(message)") }
        return bytes
    }

    /// Skips messages until the connection ends; false if it is still open after `timeout`.
    func waitForClose(timeout: TimeInterval = 3) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while deadline.timeIntervalSinceNow > 0 {
            guard let message = try? self.next(timeout: max(0.001, deadline.timeIntervalSinceNow)) else { return false }
            if message == .closed { return true }
        }
        return false
    }

    /// Asserts nothing but pings arrives for `seconds`; returns what arrived otherwise.
    func quietFor(_ seconds: TimeInterval) -> Message? {
        do {
            return try self.next(timeout: seconds)
        } catch {
            return nil
        }
    }

    // MARK: Socket.IO helpers

    /// Sends CONNECT for `namespace` and returns the socket id from the server's CONNECT reply.
    @discardableResult
    func connectNamespace(_ namespace: String = "/", auth: String? = nil) throws -> String {
        let prefix = namespace == "/" ? "40" : "40\(namespace),"
        try self.send(prefix + (auth ?? ""))
        let reply = try self.nextText()
        guard reply.hasPrefix(prefix), let object = Self.json(String(reply.dropFirst(prefix.count))) as? [String: Any],
              let sid = object["sid"] as? String else {
            throw SIOTestError.unexpected("CONNECT reply \(reply)")
        }
        return sid
    }

    /// Parses JSON text (fragments allowed).
    static func json(_ text: String) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }
}
