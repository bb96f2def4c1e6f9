import Synchronization

/// Sessions by id, shared by every loop: a polling request can arrive on any loop, and finds its session's
/// loop here. Only polling requests and handshakes look things up; messages on a WebSocket never do.
final class EngineSessionRegistry: Sendable {
    private let sessions = Mutex<[String: EngineSession]>([:])

    func insert(_ session: EngineSession) {
        self.sessions.withLock { $0[session.id] = session }
    }

    func remove(_ id: String) {
        _ = self.sessions.withLock { $0.removeValue(forKey: id) }
    }

    func lookup(_ id: String) -> EngineSession? {
        self.sessions.withLock { $0[id] }
    }

    var count: Int { self.sessions.withLock { $0.count } }

    func all() -> [EngineSession] {
        self.sessions.withLock { Array($0.values) }
    }
}
