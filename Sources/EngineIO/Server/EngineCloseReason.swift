/// Why a session ended, with the reason strings of Node's engine.io.
public enum EngineCloseReason: String, Sendable {
    /// The server closed it (`session.close()`).
    case forcedClose = "forced close"
    /// No pong within pingTimeout.
    case pingTimeout = "ping timeout"
    /// The client closed it (close packet, WebSocket close, connection gone).
    case transportClose = "transport close"
    /// The transport failed (duplicate poll, abandoned poll, socket error).
    case transportError = "transport error"
    /// The client sent something that is not Engine.IO.
    case parseError = "parse error"
    /// The server is shutting down.
    case serverShutdown = "forced server close"
}
