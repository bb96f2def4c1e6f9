import HTTPKit
import Transport

/// What an `EngineSession` keeps only while it polls, upgrades or closes, or for unusual polling flavors (a
/// box, so that an idle WebSocket session does not carry it). Touched on the session's loop only.
final class EngineSessionRareState {
    var pollHead: HTTPPreparedHead?
    var postHead: HTTPPreparedHead?
    var polling = EnginePollingFlavor()
    var probe: WebSocketConnection?
    var upgradeTimer: LoopTimer?
    var probed = false
    var pendingPoll: HTTPExchange?
    var outbox: [EnginePacket] = []
    var outboxBytes = 0
    var outboxLargest = 0
    var uncompressedQueued: Set<Int> = []
    var outboxBase = 0
    var closeTimer: LoopTimer?
}
