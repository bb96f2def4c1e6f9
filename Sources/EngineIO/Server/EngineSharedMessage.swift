import HTTPKit

/// A text message on its way to many sessions (a broadcast), encoded once: its text for polling sessions,
/// and its Engine.IO packet framed for WebSocket, a frame every WebSocket session queues by reference.
public struct EngineSharedMessage: Sendable {
    /// The message text (without the packet type).
    public let text: [UInt8]
    /// The MESSAGE packet (`4` + text) as one WebSocket text frame.
    let webSocketFrame: WebSocketSharedText

    /// The message `text`, framed once.
    public init(text: [UInt8]) {
        self.text = text
        self.webSocketFrame = WebSocketSharedText(prefix: EnginePacketType.message.asciiDigit, text)
    }
}
