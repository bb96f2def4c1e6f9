/// Which end of a WebSocket connection this codec serves.
///
/// The role decides masking (RFC 6455 §5.1: clients mask every frame, servers never do) and which
/// permessage-deflate parameters apply to each direction.
public enum WebSocketRole: Sendable, Hashable {
    /// Accepts connections: expects masked frames, sends unmasked ones.
    case server
    /// Opens connections: expects unmasked frames, sends masked ones.
    case client
}
