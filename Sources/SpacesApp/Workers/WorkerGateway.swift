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
        // Behind the Redis adapter a user's pages may sit on another node: every update goes out.
        let everywhere = !(io.sockets.adapter is InMemoryAdapter)
        let recoverySeconds = Double(io.options.connectionStateRecovery?.maxDisconnectionDuration ?? 0) / 1000
        let listeners = RequestListeners(everywhere: everywhere, recoverySeconds: recoverySeconds)
        core.wantsRequestUpdates = { userID in listeners.mayListen(userID, now: Date().timeIntervalSince1970) }
        // Pages watching spaces, counted under one key: with none, space updates are not built (a request's life
        // changes its space's state twice, and an API-only site has nobody to tell).
        let watchers = RequestListeners(everywhere: everywhere, recoverySeconds: recoverySeconds)
        core.wantsSpaceUpdates = { watchers.mayListen(Self.anySpaceWatcher, now: Date().timeIntervalSince1970) }
        core.onRequestUpdate = { [weak io] userID, update in
            io?.to(self.userRoom(userID)).emit(self.updateEvent, update)
        }
        core.onSpaceUpdate = { [weak io] spaceID, state in
            io?.to(self.spaceRoom(spaceID)).to(self.allSpacesRoom).emit(self.spaceEvent, state)
        }
        io.on(.connection) { socket in
            let userID = sessions.userID(from: socket.handshake.headers, now: Date().timeIntervalSince1970)
            if let userID {
                listeners.joined(userID)
                socket.join(self.userRoom(userID))
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
                watching.start(watchers)
                socket.join(self.spaceRoom(spaceID))
                core.post { socket.emit(self.spaceEvent, core.spaceState(spaceID)) }
            }
            socket.on("watch_spaces") { _, _ in
                watching.start(watchers)
                socket.join(self.allSpacesRoom)
            }
            socket.on(.disconnect) { _ in
                if let userID { listeners.left(userID, now: Date().timeIntervalSince1970) }
                if watching.isSet { watchers.left(Self.anySpaceWatcher, now: Date().timeIntervalSince1970) }
                core.post { core.workerGone(channel.id) }
            }
        }
    }

    static func userRoom(_ userID: Int64) -> String { "user:\(userID)" }

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

/// The users whose pages may receive `request_update` from this node: one with a page connected, or one whose
/// page left less than the recovery window ago (it may come back and be sent what it missed). A request's life
/// sends two updates; for a user submitting through the API alone they are not built at all.
final class RequestListeners: Sendable {
    private struct State {
        var connected: [Int64: Int] = [:]
        /// When the last page of a user left, while that is within the recovery window.
        var left: [Int64: Double] = [:]
    }

    private let state = Mutex(State())
    private let everywhere: Bool
    private let recoverySeconds: Double

    /// `everywhere`: pages may be connected to other nodes (every user may listen).
    init(everywhere: Bool, recoverySeconds: Double) {
        self.everywhere = everywhere
        self.recoverySeconds = recoverySeconds
    }

    func joined(_ userID: Int64) {
        self.state.withLock { $0.connected[userID, default: 0] += 1 }
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
        if self.everywhere { return true }
        return self.state.withLock { state in
            if state.connected[userID] != nil { return true }
            guard let left = state.left[userID] else { return false }
            return now - left <= self.recoverySeconds
        }
    }
}
