import Foundation
import Synchronization

/// Spaces and users by id, as this node last read them, and the requests whose changes this node hears of.
/// Every submit, status read and dispatch reads some of them: a round trip to PostgreSQL each time is most of
/// what those calls would cost.
///
/// Spaces and users change only on the admin pages. A request is kept while its row cannot change without this
/// node knowing: once final (it never changes again), or while a worker of this node holds it (it changes only
/// through this node, or through a cancel on another node, which NOTIFYs `x <id>`). A queued request is never
/// kept: any node may claim it.
///
/// Only used while the node listens for wake-ups (`enabled`), since that is how it hears of changes made by
/// other nodes: a node that writes a row of `users` or `spaces` drops its own copies at once and NOTIFYs the
/// others, who drop theirs when the notification arrives (after the write committed). A copy also expires after
/// `maxAge`, which bounds how stale a node can be if a notification is lost (the listener reconnecting drops
/// everything too).
final class PostgresRowCache: Sendable {
    /// Seconds a copy is trusted at most.
    static let maxAge = 5.0

    private struct Entry<Row: Sendable>: Sendable {
        let row: Row
        let readAt: Double
    }

    private struct State: Sendable {
        var enabled = false
        /// Bumped by every drop: a read that started before a drop must not store what it read.
        var generation: UInt64 = 0
        var spaces: [Int64: Entry<Space>] = [:]
        var users: [Int64: Entry<User>] = [:]
        var requests: [String: Entry<RequestRecord>] = [:]
    }

    /// Requests kept at most (all are dropped when there are more: they are re-read as needed).
    static let maxRequests = 4096

    private let state = Mutex(State())

    /// Starts (or stops) keeping copies; either way what is kept is dropped.
    func setEnabled(_ enabled: Bool) {
        self.state.withLock { state in
            state.enabled = enabled
            Self.dropAll(&state)
        }
    }

    /// Drops every copy (a write to `users` or `spaces`, here or on another node).
    func dropAll() {
        self.state.withLock { Self.dropAll(&$0) }
    }

    private static func dropAll(_ state: inout State) {
        state.generation &+= 1
        state.spaces.removeAll(keepingCapacity: true)
        state.users.removeAll(keepingCapacity: true)
        state.requests.removeAll(keepingCapacity: true)
    }

    /// The current generation, read before a statement whose result `keep` may store.
    var generation: UInt64 { self.state.withLock { $0.generation } }

    /// The request with `id`: the copy while fresh, else what `load` reads (kept when final).
    func request(_ id: String, load: () throws -> RequestRecord?) throws -> RequestRecord? {
        let now = ProcessInfo.processInfo.systemUptime
        let (cached, generation): (RequestRecord?, UInt64?) = self.state.withLock { state in
            guard state.enabled else { return (nil, nil) }
            if let entry = state.requests[id], now - entry.readAt < Self.maxAge { return (entry.row, nil) }
            return (nil, state.generation)
        }
        if let cached { return cached }
        let loaded = try load()
        if let generation, let loaded, loaded.status.isFinal { self.keep([loaded], since: generation) }
        return loaded
    }

    /// The requests of `ids` by id: the fresh copies, and for the others what `load` reads (given their ids; the
    /// final ones are kept, as `request` does).
    func requests(_ ids: [String], load: ([String]) throws -> [RequestRecord]) throws -> [String: RequestRecord] {
        let now = ProcessInfo.processInfo.systemUptime
        var found: [String: RequestRecord] = [:]
        var missing: [String] = []
        let generation: UInt64? = self.state.withLock { state in
            guard state.enabled else { return nil }
            for id in ids {
                if let entry = state.requests[id], now - entry.readAt < Self.maxAge { found[id] = entry.row }
            }
            return state.generation
        }
        if generation == nil { missing = ids } else { missing = ids.filter { found[$0] == nil } }
        guard !missing.isEmpty else { return found }
        let loaded = try load(missing)
        for record in loaded { found[record.id] = record }
        if let generation { self.keep(loaded.filter { $0.status.isFinal }, since: generation) }
        return found
    }

    /// Keeps `records`, which this node just wrote (claimed for its workers, updated while holding them, ended),
    /// unless something was dropped since `generation` was read (before the write).
    func keep(_ records: [RequestRecord], since generation: UInt64) {
        let now = ProcessInfo.processInfo.systemUptime
        self.state.withLock { state in
            guard state.enabled && state.generation == generation else { return }
            if state.requests.count + records.count > Self.maxRequests { state.requests.removeAll(keepingCapacity: true) }
            for record in records { state.requests[record.id] = Entry(row: record, readAt: now) }
        }
    }

    /// Drops the copy of request `id` (it went back to the queue, another node ended it, a write of it failed).
    func dropRequest(_ id: String) {
        self.state.withLock { state in
            state.generation &+= 1
            state.requests[id] = nil
        }
    }

    /// The space with `id`: the copy while it is fresh, else what `load` reads (kept unless a drop came between).
    func space(_ id: Int64, load: () throws -> Space?) throws -> Space? {
        try self.row(id, \.spaces, load: load)
    }

    /// The user with `id`, as `space` does it.
    func user(_ id: Int64, load: () throws -> User?) throws -> User? {
        try self.row(id, \.users, load: load)
    }

    private func row<Row: Sendable>(_ id: Int64, _ table: WritableKeyPath<State, [Int64: Entry<Row>]>,
                                    load: () throws -> Row?) throws -> Row? {
        let now = ProcessInfo.processInfo.systemUptime
        let (cached, generation): (Row?, UInt64?) = self.state.withLock { state in
            guard state.enabled else { return (nil, nil) }
            if let entry = state[keyPath: table][id], now - entry.readAt < Self.maxAge { return (entry.row, nil) }
            return (nil, state.generation)
        }
        if let cached { return cached }
        let loaded = try load()
        if let generation, let loaded {
            self.state.withLock { state in
                if state.enabled && state.generation == generation {
                    state[keyPath: table][id] = Entry(row: loaded, readAt: now)
                }
            }
        }
        return loaded
    }

    /// Whether `sql` changes rows this cache keeps: an UPDATE or DELETE of `users` or `spaces`, spelled as the
    /// store spells them (an INSERT adds an id nobody has read yet). Checked for every statement, so only prefixes.
    static func changesCachedRows(_ sql: String) -> Bool {
        guard let first = sql.utf8.first, first == UInt8(ascii: "U") || first == UInt8(ascii: "D") else { return false }
        return Self.writePrefixes.contains { sql.hasPrefix($0) }
    }

    private static let writePrefixes = ["UPDATE users ", "UPDATE spaces ", "DELETE FROM users ", "DELETE FROM spaces "]
}
