import Synchronization

/// Sessions by id, shared by every loop: a polling request can arrive on any loop, and finds its session's
/// loop here. Only polling requests and handshakes look things up; messages on a WebSocket never do.
/// Keyed by the id's bytes held inline: a polling request looks its `sid` up without making a `String`.
final class EngineSessionRegistry: Sendable {
    private let sessions = Mutex<[EngineQueryToken: EngineSession]>([:])

    func insert(_ session: EngineSession) {
        let key = EngineQueryToken(session.id)
        self.sessions.withLock { $0[key] = session }
    }

    func remove(_ id: String) {
        let key = EngineQueryToken(id)
        _ = self.sessions.withLock { $0.removeValue(forKey: key) }
    }

    func lookup(_ id: EngineQueryToken) -> EngineSession? {
        self.sessions.withLock { $0[id] }
    }

    var count: Int { self.sessions.withLock { $0.count } }

    func all() -> [EngineSession] {
        self.sessions.withLock { Array($0.values) }
    }
}
