import HTTPKit
import Transport

/// What an `EngineSession` keeps only while it polls, upgrades or closes, or for unusual polling flavors (a
/// box, so that an idle WebSocket session does not carry it). Touched on the session's loop only.
final class EngineSessionRareState {
    // Loop-confined and never accessed across a re-entrant call: the fields skip dynamic exclusivity checks
    // (a polling flush made five of them, about 60 instructions each).
    @exclusivity(unchecked) var pollHead: HTTPPreparedHead?
    @exclusivity(unchecked) var postHead: HTTPPreparedHead?
    @exclusivity(unchecked) var polling = EnginePollingFlavor()
    @exclusivity(unchecked) var probe: WebSocketConnection?
    @exclusivity(unchecked) var upgradeTimer: LoopTimer?
    @exclusivity(unchecked) var probed = false
    @exclusivity(unchecked) var pendingPoll: HTTPExchange?
    @exclusivity(unchecked) var outbox: [EnginePacket] = []
    @exclusivity(unchecked) var outboxBytes = 0
    @exclusivity(unchecked) var outboxLargest = 0
    @exclusivity(unchecked) var uncompressedQueued: Set<Int> = []
    @exclusivity(unchecked) var outboxBase = 0
    @exclusivity(unchecked) var closeTimer: LoopTimer?
}
