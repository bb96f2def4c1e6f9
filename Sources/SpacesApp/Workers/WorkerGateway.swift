import Foundation
import SocketIO
import Synchronization

/// A Socket.IO socket seen as a worker channel.
final class SocketWorkerChannel: WorkerChannel {
    let socket: Socket

    init(_ socket: Socket) {
        self.socket = socket
    }

    var id: String { self.socket.id }

    var address: String { self.socket.handshake.address }

    func send(_ event: String, _ value: JSONValue) {
        self.socket.emit(event, value)
    }

    func disconnect() {
        self.socket.disconnect()
    }
}

/// The Socket.IO side on `/`: the worker contract (`register`, `inference_result`, `inference_progress`)
/// and live request updates for logged-in browsers (each joins the room `user:<id>`).
///
/// Handlers run on the socket's loop and only post to the core, in arrival order; the core answers.
enum WorkerGateway {
    /// The event browsers get when one of their requests changes.
    static let updateEvent = "request_update"
    /// The event pages watching a space get when its workers or queue change.
    static let spaceEvent = "space_update"
    /// Room of everyone watching every space (the home page).
    static let allSpacesRoom = "spaces"
    /// Most single spaces one socket may watch.
    static let maxWatchedSpaces = 50

    static func install(on io: SocketIOServer, core: SpacesCore, sessions: SessionCookie) {
        let recoverySeconds = Double(io.options.connectionStateRecovery?.maxDisconnectionDuration ?? 0) / 1000
        let now = Date().timeIntervalSince1970
        // Behind the Redis adapter a user's pages may sit on another node: the nodes tell each other who listens.
        let clustered = !(io.sockets.adapter is InMemoryAdapter)
        let node = SecureRandom.token(byteCount: 8)
        let remoteUsers = clustered ? RemoteListeners(now: now) : nil
        let remoteWatchers = clustered ? RemoteListeners(now: now) : nil
        let listeners = RequestListeners(remote: remoteUsers, recoverySeconds: recoverySeconds) { [weak io] userID in
            if clustered { ListenerAnnouncements.announce(io: io, event: self.usersEvent, node: node, key: userID) }
        }
        // Pages watching spaces, counted under one key: with none, space updates are not built (a request's life
        // changes its space's state twice, and an API-only site has nobody to tell).
        let watchers = RequestListeners(remote: remoteWatchers, recoverySeconds: recoverySeconds) { [weak io] key in
            if clustered { ListenerAnnouncements.announce(io: io, event: self.watchersEvent, node: node, key: key) }
        }
        core.wantsRequestUpdates = { userID, requestID in
            let now = Date().timeIntervalSince1970
            if listeners.mayListen(userID, now: now) { return true }
            remoteUsers?.skipped.note(key: userID, id: requestID, now: now)
            return false
        }
        core.wantsSpaceUpdates = { spaceID in
            let now = Date().timeIntervalSince1970
            if watchers.mayListen(Self.anySpaceWatcher, now: now) { return true }
            remoteWatchers?.skipped.note(key: Self.anySpaceWatcher, id: String(spaceID), now: now)
            return false
        }
        core.onRequestUpdate = { [weak io] userID, update in
            io?.to(self.userRoom(userID)).emit(self.updateEvent, update)
        }
        core.onSpaceUpdate = { [weak io] spaceID, state in
            io?.to(self.spaceRoom(spaceID)).to(self.allSpacesRoom).emit(self.spaceEvent, state)
        }
        if let remoteUsers, let remoteWatchers {
            // Updates skipped before the announcement arrived go out now, from the current state.
            ListenerAnnouncements.start(io: io, event: self.usersEvent, node: node, local: listeners, remote: remoteUsers) { users in
                let now = Date().timeIntervalSince1970
                let ids = users.flatMap { remoteUsers.skipped.ids(for: $0, now: now) }
                if !ids.isEmpty { core.post { core.republish(requestIDs: ids) } }
            }
            ListenerAnnouncements.start(io: io, event: self.watchersEvent, node: node, local: watchers,
                                        remote: remoteWatchers) { _ in
                let spaces = remoteWatchers.skipped.ids(for: Self.anySpaceWatcher, now: Date().timeIntervalSince1970)
                    .compactMap { Int64($0) }
                if !spaces.isEmpty { core.post { for spaceID in spaces { core.spaceChanged(spaceID) } } }
            }
        }
        io.on(.connection) { socket in
            let userID = sessions.userID(from: socket.handshake.headers, now: Date().timeIntervalSince1970)
            if let userID {
                // In the room before the other nodes hear of it (`joined` announces), so their updates find it.
                socket.join(self.userRoom(userID))
                listeners.joined(userID)
            }
            // A recovered socket is back in the rooms it watched before.
            let watching = WatchingFlag()
            if socket.recovered && socket.rooms.contains(where: { $0 == self.allSpacesRoom || $0.hasPrefix("space:") }) {
                watching.start(watchers)
            }
            let channel = SocketWorkerChannel(socket)
            let authToken = socket.handshake.auth["token"]?.stringValue

            socket.on("register") { args, _ in
                let data = args.first
                let request = RegistrationRequest(
                    spaceName: data?["space_name"]?.stringValue,
                    token: data?["token"]?.stringValue ?? authToken,
                    concurrency: data?["concurrency"]?.intValue)
                core.post { core.register(channel, request) }
            }
            socket.on("inference_result") { args, _ in
                let data = args.first
                let requestID = data?["request_id"]?.stringValue
                let status = data?["status"]?.stringValue
                let result = data?["result"]
                core.post { core.result(from: channel.id, requestID: requestID, status: status, result: result) }
            }
            socket.on("inference_progress") { args, _ in
                let data = args.first
                let requestID = data?["request_id"]?.stringValue
                let progress = data?["progress"]?.doubleValue
                let message = data?["message"]?.stringValue
                let partial = data?["partial"]
                core.post {
                    core.progress(from: channel.id, requestID: requestID, progress: progress, message: message, partial: partial)
                }
            }
            // Pages ask for public space state: `watch_space {space_id}` for one, `watch_spaces` for all. The
            // current state comes back at once, so a page that reconnects is never left stale.
            socket.on("watch_space") { args, _ in
                guard let spaceID = args.first?["space_id"]?.intValue.map(Int64.init),
                      socket.rooms.filter({ $0.hasPrefix("space:") }).count < self.maxWatchedSpaces else { return }
                socket.join(self.spaceRoom(spaceID))
                watching.start(watchers)
                core.post { socket.emit(self.spaceEvent, core.spaceState(spaceID)) }
            }
            socket.on("watch_spaces") { _, _ in
                socket.join(self.allSpacesRoom)
                watching.start(watchers)
            }
            socket.on(.disconnect) { _ in
                if let userID { listeners.left(userID, now: Date().timeIntervalSince1970) }
                if watching.isSet { watchers.left(Self.anySpaceWatcher, now: Date().timeIntervalSince1970) }
                core.post { core.workerGone(channel.id) }
            }
        }
    }

    static func userRoom(_ userID: Int64) -> String { "user:\(userID)" }

    /// Server-side events in which nodes announce the users with pages, and whether pages watch spaces.
    static let usersEvent = "spaces:listening-users"
    static let watchersEvent = "spaces:watching-spaces"

    /// The key `RequestListeners` counts space-watching pages under.
    static let anySpaceWatcher: Int64 = 0

    static func spaceRoom(_ spaceID: Int64) -> String { "space:\(spaceID)" }
}

/// Whether a socket counts as a page watching spaces (set once, by its first watch, on the socket's loop).
final class WatchingFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    var isSet: Bool { self.flag.load(ordering: .relaxed) }

    /// Counts the socket among `watchers` the first time.
    func start(_ watchers: RequestListeners) {
        guard !self.flag.exchange(true, ordering: .relaxed) else { return }
        watchers.joined(WorkerGateway.anySpaceWatcher)
    }
}

/// The users whose pages may receive `request_update`: one with a page connected here, or one whose page left
/// less than the recovery window ago (it may come back and be sent what it missed), or, on a cluster, one that
/// another node announced (`remote`). A request's life sends two updates; for a user submitting through the API
/// alone they are not built at all.
final class RequestListeners: Sendable {
    private struct State {
        var connected: [Int64: Int] = [:]
        /// When the last page of a user left, while that is within the recovery window.
        var left: [Int64: Double] = [:]
    }

    private let state = Mutex(State())
    private let remote: RemoteListeners?
    private let recoverySeconds: Double
    /// Called when a user's first page here joins (outside the lock).
    private let onFirstJoin: @Sendable (Int64) -> Void

    init(remote: RemoteListeners?, recoverySeconds: Double, onFirstJoin: @escaping @Sendable (Int64) -> Void = { _ in }) {
        self.remote = remote
        self.recoverySeconds = recoverySeconds
        self.onFirstJoin = onFirstJoin
    }

    func joined(_ userID: Int64) {
        let first = self.state.withLock { state in
            state.connected[userID, default: 0] += 1
            return state.connected[userID] == 1
        }
        if first { self.onFirstJoin(userID) }
    }

    func left(_ userID: Int64, now: Double) {
        self.state.withLock { state in
            let remaining = (state.connected[userID] ?? 1) - 1
            state.connected[userID] = remaining > 0 ? remaining : nil
            state.left[userID] = now
            // Forget users whose window closed, now and then, so the map stays as small as the recent departures.
            if state.left.count > 1024 {
                state.left = state.left.filter { now - $0.value <= self.recoverySeconds }
            }
        }
    }

    func mayListen(_ userID: Int64, now: Double) -> Bool {
        let here = self.state.withLock { state in
            if state.connected[userID] != nil { return true }
            guard let left = state.left[userID] else { return false }
            return now - left <= self.recoverySeconds
        }
        return here || self.remote?.contains(userID, now: now) == true
    }

    /// Every user that may listen here, for the other nodes.
    func listening(now: Double) -> [Int64] {
        self.state.withLock { state in
            Array(state.connected.keys) + state.left.compactMap { user, left in
                state.connected[user] == nil && now - left <= self.recoverySeconds ? user : nil
            }
        }
    }
}
