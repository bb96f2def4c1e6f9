import Synchronization

/// Sessions by id, shared by every loop: a polling request can arrive on any loop, and finds its session's
/// loop here. Only polling requests and handshakes look things up; messages on a WebSocket never do.
/// Keyed by the id's bytes held inline (`SessionKey`): a polling request looks its `sid` up without making a
/// `String`.
final class EngineSessionRegistry: Sendable {
    private let sessions = Mutex<[SessionKey: EngineSession]>([:])

    func insert(_ session: EngineSession) {
        // Every id is generated (20 bytes), so every id has a key; a longer one would stay unregistered.
        guard let key = SessionKey(session.id) else { return }
        self.sessions.withLock { $0[key] = session }
    }

    func remove(_ id: String) {
        guard let key = SessionKey(id) else { return }
        _ = self.sessions.withLock { $0.removeValue(forKey: key) }
    }

    func lookup(_ id: EngineQueryToken) -> EngineSession? {
        guard let key = id.withInlineBytes(SessionKey.init) ?? nil else { return nil }
        return self.sessions.withLock { $0[key] }
    }

    var count: Int { self.sessions.withLock { $0.count } }

    func all() -> [EngineSession] {
        self.sessions.withLock { Array($0.values) }
    }
}

/// A session id of up to 23 bytes and its length in three words: 24 bytes a table slot, where a key of
/// `EngineQueryToken`'s shape (room for a long `String` too) took 48, about 40 bytes more per idle connection
/// with the table's spare slots.
private struct SessionKey: Hashable {
    private var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
    static let capacity = 23

    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count <= Self.capacity else { return nil }
        withUnsafeMutableBytes(of: &self.words) { raw in
            if let base = bytes.baseAddress { raw.baseAddress?.copyMemory(from: base, byteCount: bytes.count) }
            raw[Self.capacity] = UInt8(truncatingIfNeeded: bytes.count)
        }
    }

    init?(_ id: String) {
        var id = id
        guard let key = id.withUTF8({ Self(UnsafeRawBufferPointer($0)) }) else { return nil }
        self = key
    }

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(self.words.0)
        hasher.combine(self.words.1)
        hasher.combine(self.words.2)
    }
}
