import Synchronization

/// Sessions by id, shared by every loop: a polling request can arrive on any loop, and finds its session's
/// loop here. Only polling requests and handshakes look things up; messages on a WebSocket never do.
/// Keyed by the id's bytes held inline (`GeneratedIDKey`): a polling request looks its `sid` up without making a
/// `String`.
final class EngineSessionRegistry: Sendable {
    private let sessions = Mutex<[GeneratedIDKey: EngineSession]>([:])

    func insert(_ session: EngineSession) {
        // Every id is generated (20 bytes), so every id has a key; a longer one would stay unregistered.
        guard let key = GeneratedIDKey(session.id) else { return }
        self.sessions.withLock { $0[key] = session }
    }

    func remove(_ id: String) {
        guard let key = GeneratedIDKey(id) else { return }
        _ = self.sessions.withLock { $0.removeValue(forKey: key) }
    }

    func lookup(_ id: EngineQueryToken) -> EngineSession? {
        guard let key = id.withInlineBytes(GeneratedIDKey.init) ?? nil else { return nil }
        return self.sessions.withLock { $0[key] }
    }

    var count: Int { self.sessions.withLock { $0.count } }

    func all() -> [EngineSession] {
        self.sessions.withLock { Array($0.values) }
    }
}
