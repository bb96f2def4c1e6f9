import Foundation
import SocketIO
import Synchronization

/// Who listens on the other nodes of a cluster, as they announce it over the Redis adapter (server-side events):
/// a node builds and broadcasts a live update only when a page somewhere may receive it, rather than publishing
/// every update to Redis (and into its recovery list) for every node to decode.
///
/// Each node announces a key (a user id, or `anySpaceWatcher`) the moment its first local page for it joins, and
/// every key it counts as listening (`RequestListeners.listening`) every `period` and whenever a node that just
/// started asks (`helloEvent`). A node's keys are forgotten `expiry` after it last announced them (it died, or
/// nobody listens there any more). Until `grace` after start, while the others' answers arrive, every key counts
/// as listening.
///
/// An announcement crosses Redis while an update may be skipped on another node: what a node skipped is noted
/// (`SkippedUpdates`, for longer than a period), and sent again, from its current state, when it hears that the
/// key listens after all. A page another node did not know of yet gets its updates late, never not at all.
final class RemoteListeners: Sendable {
    /// Seconds between two complete announcements of a node.
    static let period = 2.0
    /// Seconds after which a node's announced keys are forgotten.
    static let expiry = 3.5 * period
    /// Seconds after start during which everyone counts as listening (the others answer the hello meanwhile).
    static let grace = 1.0
    /// The event a starting node sends to have every other node announce all its keys of a kind at once.
    static let helloEvent = "spaces:listeners-hello"

    private struct Heard {
        var keys: Set<Int64>
        var at: Double
    }

    private let nodes = Mutex<[String: Heard]>([:])
    private let startedAt: Double
    /// The timer of this node's complete announcements (`ListenerAnnouncements.start`).
    private let timer = Mutex<AnnouncementTimer?>(nil)
    /// Skipped updates, kept long enough for an announcement to arrive after them.
    let skipped: SkippedUpdates

    init(now: Double) {
        self.startedAt = now
        self.skipped = SkippedUpdates(window: Self.period * 3, capacity: 8192)
    }

    deinit {
        self.stopAnnouncing()
    }

    func keepAnnouncing(_ timer: AnnouncementTimer) {
        self.timer.withLock { $0 = timer }
    }

    func stopAnnouncing() {
        self.timer.withLock { $0?.source.cancel() }
    }

    /// Whether `key` may listen on another node.
    func contains(_ key: Int64, now: Double) -> Bool {
        if now - self.startedAt < Self.grace { return true }
        return self.nodes.withLock { nodes in
            nodes.values.contains { now - $0.at <= Self.expiry && $0.keys.contains(key) }
        }
    }

    /// Notes what `node` announced (`complete`: every key it has, replacing what it said before; else keys
    /// added to it). Returns the keys that no other node was known to listen for until now.
    func heard(node: String, keys: [Int64], complete: Bool, now: Double) -> [Int64] {
        self.nodes.withLock { nodes in
            let live = nodes.values.filter { now - $0.at <= Self.expiry }
            let fresh = keys.filter { key in !live.contains { $0.keys.contains(key) } }
            let previous = complete ? [] : (nodes[node].map { now - $0.at <= Self.expiry ? $0.keys : [] } ?? [])
            nodes[node] = Heard(keys: previous.union(keys), at: now)
            if nodes.count > 64 { nodes = nodes.filter { now - $0.value.at <= Self.expiry } }
            return fresh
        }
    }
}

/// Live updates recently skipped because nobody listened (key, id, when), for `window` seconds and at most
/// `capacity` of them, oldest dropped first.
final class SkippedUpdates: Sendable {
    private struct State {
        var entries: [(key: Int64, id: String, at: Double)] = []
        var head = 0
    }

    private let state = Mutex(State())
    private let window: Double
    private let capacity: Int

    init(window: Double, capacity: Int) {
        self.window = window
        self.capacity = capacity
    }

    func note(key: Int64, id: String, now: Double) {
        self.state.withLock { state in
            state.entries.append((key, id, now))
            while state.head < state.entries.count
                && (state.entries.count - state.head > self.capacity || now - state.entries[state.head].at > self.window) {
                state.head += 1
            }
            if state.head >= 1024 && state.head * 2 >= state.entries.count {
                state.entries.removeFirst(state.head)
                state.head = 0
            }
        }
    }

    /// The distinct ids skipped for `key` within the window, oldest first.
    func ids(for key: Int64, now: Double) -> [String] {
        self.state.withLock { state in
            var seen = Set<String>()
            return state.entries[state.head...].compactMap { entry in
                guard entry.key == key, now - entry.at <= self.window, seen.insert(entry.id).inserted else { return nil }
                return entry.id
            }
        }
    }
}

/// Announces one node's listeners of one kind (`event`) to the other nodes and hears theirs.
enum ListenerAnnouncements {
    /// Hears the other nodes' announcements of `event` into `remote`, calls `learned` with keys that newly listen
    /// (on the adapter's thread), and announces `local`'s keys every `RemoteListeners.period` while `io` lives.
    static func start(io: SocketIOServer, event: String, node: String, local: RequestListeners, remote: RemoteListeners,
                      learned: @escaping @Sendable ([Int64]) -> Void) {
        io.sockets.onServerSideEvent(event) { args, _ in
            guard args.count == 3, let sender = args[0].stringValue, sender != node, let complete = args[1].boolValue,
                  let keys = args[2].arrayValue?.compactMap({ $0.intValue.map(Int64.init) }) else { return }
            let fresh = remote.heard(node: sender, keys: keys, complete: complete, now: Date().timeIntervalSince1970)
            if !fresh.isEmpty { learned(fresh) }
        }
        let announceAll = { @Sendable [weak io, weak local] in
            guard let io, let local else { return }
            let keys = local.listening(now: Date().timeIntervalSince1970)
            if !keys.isEmpty { io.serverSideEmit(event, [.string(node), .bool(true), .array(keys.map { .int($0) })]) }
        }
        io.sockets.onServerSideEvent(RemoteListeners.helloEvent) { args, _ in
            if args.first?.stringValue == event { announceAll() }
        }
        // Twice: the first may leave before this node's subscriber listens for the answers.
        io.serverSideEmit(RemoteListeners.helloEvent, [.string(event)])
        DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + RemoteListeners.grace / 2) { [weak io] in
            io?.serverSideEmit(RemoteListeners.helloEvent, [.string(event)])
        }
        let timer = DispatchSource.makeTimerSource(queue: .global(qos: .utility))
        timer.schedule(deadline: .now() + RemoteListeners.period / 2, repeating: RemoteListeners.period, leeway: .milliseconds(200))
        timer.setEventHandler { [weak io, weak local, weak remote] in
            guard io != nil, local != nil else {
                remote?.stopAnnouncing()
                return
            }
            announceAll()
        }
        remote.keepAnnouncing(AnnouncementTimer(source: timer))
        timer.resume()
    }

    /// Tells the other nodes at once that `key` listens here now.
    static func announce(io: SocketIOServer?, event: String, node: String, key: Int64) {
        io?.serverSideEmit(event, [.string(node), .bool(false), .array([.int(key)])])
    }
}

/// A node's repeating announcement (a dispatch source, safe to cancel from any thread).
final class AnnouncementTimer: @unchecked Sendable {
    // Invariant for @unchecked Sendable: `source` is set once; DispatchSource is thread-safe.
    let source: DispatchSourceTimer

    init(source: DispatchSourceTimer) {
        self.source = source
    }
}
