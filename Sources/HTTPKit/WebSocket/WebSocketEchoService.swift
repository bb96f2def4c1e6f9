import Transport

/// A plain WebSocket endpoint that sends every message back as it came (text as text, binary as binary):
/// the target of RFC 6455 conformance suites.
public final class WebSocketEchoService: HTTPRequestHandling, WebSocketDelegate, @unchecked Sendable {
    // Stateless apart from an immutable limit, so one instance serves every loop.
    private let maxMessageSize: Int

    /// Echoes messages up to `maxMessageSize` bytes.
    public init(maxMessageSize: Int) {
        self.maxMessageSize = maxMessageSize
    }

    /// Plain requests get 426 Upgrade Required.
    public func handle(_ request: HTTPRequest, exchange: HTTPExchange) {
        exchange.respond(.text("This endpoint speaks WebSocket only.\n", status: 426))
    }

    /// Accepts the WebSocket handshake.
    public func upgrade(_ request: HTTPRequest, connection: TCPConnection) -> HTTPUpgradeResult {
        let accepted: WebSocketServerHandshake
        do {
            accepted = try WebSocketServerHandshake(request: request.head, allowDeflate: true)
        } catch {
            return .rejected(error.response)
        }
        // Threshold 0: conformance suites check the compressor on messages of every size.
        let ws = WebSocketConnection(connection: connection, role: .server, maxMessageSize: self.maxMessageSize,
                                     deflate: accepted.deflate, compressionThreshold: 0)
        ws.delegate = self
        connection.handler = ws
        accepted.writeResponse(to: connection)
        return .upgraded
    }

    /// Sends the text back.
    public func webSocket(_ ws: WebSocketConnection, didReceiveText bytes: [UInt8]) {
        ws.sendText(prefix: nil, bytes)
    }

    /// Sends the bytes back.
    public func webSocket(_ ws: WebSocketConnection, didReceiveBinary bytes: [UInt8]) {
        ws.sendBinary(bytes)
    }

    /// Nothing to clean up.
    public func webSocketDidClose(_ ws: WebSocketConnection, code: UInt16?) {}
}
