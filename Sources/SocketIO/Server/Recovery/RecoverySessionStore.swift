import Synchronization

/// The sessions of disconnected sockets and the broadcasts they may have missed, kept in memory for
/// `maxDisconnectionDuration` (Node's `SessionAwareAdapter`). Used by `InMemoryAdapter`; any thread.
///
/// Both lists are in time order, so expiry drops from their fronts; packets are also capped at
/// `maxStoredPackets`. An offset is found through an index of sequence numbers, not by scanning.
final class RecoverySessionStore: Sendable {
    private let state = Mutex<State>(State())

    private struct StoredPacket {
        let offset: String
        let emittedAt: Int64
        let target: SocketBroadcastOptions
        let arguments: [JSONValue]
    }

    private struct StoredSession {
        let session: SocketSession
        let disconnectedAt: Int64
    }

    private struct State {
        var options: ConnectionStateRecoveryOptions?
        var packets: [StoredPacket] = []
        /// Sequence number of `packets[head]`; `packets[..<head]` are dropped entries not yet compacted.
        var head = 0
        var firstSequence: UInt64 = 0
        var sequenceOfOffset: [String: UInt64] = [:]
        var sessions: [String: StoredSession] = [:]
        var sessionOrder: [(pid: String, disconnectedAt: Int64)] = []
        var sessionHead = 0

        mutating func dropPacketsBefore(_ limit: Int64, cap: Int) {
            while self.head < self.packets.count,
                  self.packets[self.head].emittedAt < limit || self.packets.count - self.head > cap {
                self.sequenceOfOffset[self.packets[self.head].offset] = nil
                self.head += 1
                self.firstSequence += 1
            }
            // Compact once the dropped prefix is half the array: amortised O(1) per packet.
            if self.head > 64 && self.head * 2 > self.packets.count {
                self.packets.removeFirst(self.head)
                self.head = 0
            }
        }

        mutating func dropSessionsBefore(_ limit: Int64) {
            while self.sessionHead < self.sessionOrder.count, self.sessionOrder[self.sessionHead].disconnectedAt < limit {
                let entry = self.sessionOrder[self.sessionHead]
                if self.sessions[entry.pid]?.disconnectedAt == entry.disconnectedAt { self.sessions[entry.pid] = nil }
                self.sessionHead += 1
            }
            if self.sessionHead > 64 && self.sessionHead * 2 > self.sessionOrder.count {
                self.sessionOrder.removeFirst(self.sessionHead)
                self.sessionHead = 0
            }
        }
    }

    /// Turns the store on; until then it keeps nothing.
    func enable(_ options: ConnectionStateRecoveryOptions) {
        self.state.withLock { $0.options = options }
    }

    /// Keeps a broadcast that carries `offset` as its last argument.
    func record(offset: String, arguments: [JSONValue], target: SocketBroadcastOptions) {
        let now = ConnectionStateRecovery.nowMillis()
        self.state.withLock { state in
            guard let options = state.options else { return }
            state.dropPacketsBefore(now - Int64(options.maxDisconnectionDuration), cap: max(0, options.maxStoredPackets - 1))
            state.sequenceOfOffset[offset] = state.firstSequence + UInt64(state.packets.count - state.head)
            state.packets.append(StoredPacket(offset: offset, emittedAt: now, target: target, arguments: arguments))
        }
    }

    /// Keeps the session of a socket that just disconnected.
    func persist(_ session: SocketSession) {
        let now = ConnectionStateRecovery.nowMillis()
        self.state.withLock { state in
            guard let options = state.options else { return }
            state.dropSessionsBefore(now - Int64(options.maxDisconnectionDuration))
            state.sessions[session.pid] = StoredSession(session: session, disconnectedAt: now)
            state.sessionOrder.append((pid: session.pid, disconnectedAt: now))
        }
    }

    /// Takes the session `pid` back with the packets sent to its rooms after `offset`; nil when the session
    /// is unknown or expired, or the offset is no longer kept (Node then connects a new socket).
    func restore(pid: String, offset: String) -> RecoveredSocketSession? {
        let now = ConnectionStateRecovery.nowMillis()
        return self.state.withLock { state -> RecoveredSocketSession? in
            guard let options = state.options, let stored = state.sessions.removeValue(forKey: pid) else { return nil }
            let limit = now - Int64(options.maxDisconnectionDuration)
            guard stored.disconnectedAt >= limit else { return nil }
            state.dropPacketsBefore(limit, cap: options.maxStoredPackets)
            guard let sequence = state.sequenceOfOffset[offset] else { return nil }
            let start = state.head + Int(sequence - state.firstSequence) + 1
            var missed: [[JSONValue]] = []
            if start < state.packets.count {
                for packet in state.packets[start...]
                where ConnectionStateRecovery.reaches(rooms: stored.session.rooms, target: packet.target) {
                    missed.append(packet.arguments)
                }
            }
            return RecoveredSocketSession(session: stored.session, missedPackets: missed)
        }
    }
}
