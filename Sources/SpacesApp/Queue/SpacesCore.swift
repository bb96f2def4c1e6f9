import Foundation
import SocketIO

/// A connected worker as the core sees it: an id and a way to talk to it (a Socket.IO socket in the app, a
/// fake in tests).
protocol WorkerChannel: AnyObject, Sendable {
    /// Unique id (the socket id); also the `connection_id` workers get.
    var id: String { get }
    /// Emits `event` with one argument.
    func send(_ event: String, _ value: JSONValue)
    /// Disconnects the worker from the server side.
    func disconnect()
    /// Where the worker connects from, for the admin dashboard.
    var address: String { get }
}

extension WorkerChannel {
    var address: String { "" }
}

/// Settings of the core.
struct CoreOptions: Sendable {
    /// Deliveries after which a request whose worker went away fails instead of going back to the queue.
    var maxDeliveries = 3
    /// Folder holding uploaded files, one sub-folder per request.
    var uploadsDirectory: String
    /// Most requests queued per space; more are refused with 503.
    var maxQueuedPerSpace = 100_000
}

/// The heart of the app: spaces, connected workers, the durable FIFO per space and dispatch.
///
/// Every piece of state here, the store included, is owned by `queue`, a serial queue of its own:
/// disk work never runs on an event loop, and messages from one socket are handled in the order they
/// arrived (each is posted to the queue on the socket's loop, in order). Methods other than `post`,
/// `perform` and `sync` must run on `queue`.
final class SpacesCore: @unchecked Sendable {
    // Invariant for @unchecked Sendable: every `var` is read and written on `queue` only.

    let queue = DispatchQueue(label: "spaces.core", qos: .userInitiated)
    let store: any SpacesStore
    /// `store` when it is the SQLite one (told where each job of the queue starts and ends).
    let sqliteStore: SQLiteStore?
    let options: CoreOptions
    /// Seconds since 1970 (tests may replace it before `start`).
    var clock: @Sendable () -> Double = { Date().timeIntervalSince1970 }
    /// Called (on `queue`) when a request changes, with its owner and a JSON summary, for live pages.
    var onRequestUpdate: (@Sendable (_ userID: Int64, _ update: JSONValue) -> Void)?
    /// Whether a user may have a page that listens to `onRequestUpdate` for a request (nil: assume so). Updates
    /// for users without one are not built.
    var wantsRequestUpdates: (@Sendable (_ userID: Int64, _ requestID: String) -> Bool)?
    /// Called (on `queue`) with a space's public state (workers, queue size) after it changed, at most once per
    /// turn of the queue however many requests moved.
    var onSpaceUpdate: (@Sendable (_ spaceID: Int64, _ state: JSONValue) -> Void)?
    /// Whether any page may listen to `onSpaceUpdate` (nil: assume so). With none, changes are not gathered.
    var wantsSpaceUpdates: (@Sendable (_ spaceID: Int64) -> Bool)?
    /// Spaces whose state changed since the last `onSpaceUpdate` round.
    var changedSpaces: Set<Int64> = []

    struct Registration {
        var concurrency: Int
        var inFlight: Set<String> = []
        let registeredAt: Double
        /// Requests this worker completed for the space.
        var completed = 0
    }

    struct WorkerEntry {
        let channel: WorkerChannel
        var registrations: [Int64: Registration] = [:]
        let connectedAt: Double
    }

    struct InFlight {
        let spaceID: Int64
        let workerID: String
        let delivery: Int
        let dispatchedAt: Double
        /// The space's timeout when it was dispatched, and when (clock seconds) it runs out; 0 and nil: none.
        var timeoutSeconds = 0
        var deadline: Double?
    }

    var workers: [String: WorkerEntry] = [:]
    /// Worker ids per space, in registration order.
    var holders: [Int64: [String]] = [:]
    var fifos: [Int64: RequestFIFO] = [:]
    var inFlight: [String: InFlight] = [:]
    /// One timer for every in-flight request's timeout, armed for the earliest deadline (SpacesCore+Timeouts).
    var timeoutTimer: DispatchSourceTimer?
    var timeoutTimerDeadline: Double?
    /// Last accepted submission per "user:space", for rate limits.
    var lastSubmission: [String: Double] = [:]
    var nextQueueOrder: Int64 = 1
    var metrics = CoreMetrics()
    /// Set when the server stops: nothing more is dispatched.
    private(set) var draining = false
    /// The queue every node shares, when the store can hold one (PostgreSQL); nil: SQLite, one node, the
    /// in-memory FIFOs above.
    let cluster: (any ClusterQueueStore)?
    /// This node's id in the cluster (its row in `nodes`). The server keeps it in the data folder, so a node
    /// restarted after a crash releases at once what its previous run held; set before `start`.
    var nodeID = "node-" + SecureRandom.token(byteCount: 6)
    /// Where this node listens, for the admin pages (set before `start`).
    var nodeAddress = ""
    /// Lease, reaper and wake-ups of the cluster path (set by `start`).
    var membership: ClusterMembership?
    /// The cluster queue position read last in this turn of the queue (cleared at the end of the turn).
    var lastPosition: (id: String, position: Int)?
    /// Recent counts of the shared queues, for `queueSizeForLimit`.
    var queuedEstimate: [Int64: (count: Int, at: Double)] = [:]
    /// When another node last answered that a worker serves a space, for `hasWorker`.
    var workerSeenElsewhere: [Int64: Double] = [:]
    /// Slots reserved for submissions whose rows are being committed (cluster path): request id → its space
    /// and worker. The id also sits in the worker's registration `inFlight`, so that nobody else takes the slot.
    var reservedSlots: [String: (spaceID: Int64, workerID: String)] = [:]
    /// Bumped whenever this node hears that a request may wait in a shared queue (`queueMayHoldRequests`, a
    /// sweep): a submission claimed in its commit marks its queue drained only when nothing was heard meanwhile.
    var queueNews: UInt64 = 0
    /// Where submissions commit on a cluster, off this queue.
    let submitCommits = SubmissionCommits()
    /// What waits for the SQLite store's gathering transaction to commit (SpacesCore+Durability), in order.
    var afterCommit: [AfterCommit] = []
    /// Status reads waiting for the queue, read together (SpacesCore+RequestReads).
    let requestReads = RequestReadBatch()
    /// Payloads of queued requests as values (`keepQueuedPayload`), taken at dispatch.
    var queuedPayloads: [String: JSONValue] = [:]
    /// Requests inserted in the open gathering transaction: request id → space and queue order.
    var gatheredSubmits: [String: (spaceID: Int64, order: Int64)] = [:]

    init(store: any SpacesStore, options: CoreOptions) {
        self.store = store
        self.options = options
        self.cluster = store as? any ClusterQueueStore
        self.sqliteStore = store as? SQLiteStore
        // The commit goes behind the jobs already waiting: their writes join it.
        self.sqliteStore?.gatheringOpened = { [weak self] in
            guard let core = self else { return }
            core.queue.async { core.commitGathered() }
        }
    }

    deinit {
        self.timeoutTimer?.cancel()
    }

    // MARK: Reaching the queue

    /// Runs `body` on the queue, later.
    func post(_ body: @escaping @Sendable () -> Void) {
        self.queue.async { self.asOneTurn(body) }
    }

    /// Runs `body` (on the queue) with the SQLite store's writes in one commit, made after the jobs waiting now
    /// (SpacesCore+Durability): a result that frees a slot saves the finished request and the next one dispatched
    /// together. PostgreSQL's writes go as they are.
    func writingTogether(_ body: () -> Void) {
        self.sqliteStore?.openGathering()
        body()
    }

    /// Runs `body` on the queue and returns its result to an async caller.
    func perform<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            self.perform(body) { continuation.resume(with: $0) }
        }
    }

    /// Runs `body` on the queue and hands its result to `completion` there, once what it wrote is durable (no
    /// task or continuation: what the HTTP routes answered from the loop thread use).
    func perform<T>(_ body: @escaping @Sendable () throws -> T,
                    completion: @escaping @Sendable (Result<T, any Error>) -> Void) {
        self.queue.async {
            let result = Result { try self.asOneTurn(body) }
            self.whenDurable { completion(result) }
        }
    }

    /// Runs `body` on the queue and returns to an async caller what `body` hands to `finish` (on the queue, now or
    /// in a later job: a submission waiting for its commit). `body` either throws or calls `finish`, once.
    func performDeferred<T: Sendable>(
        _ body: @escaping @Sendable (_ finish: @escaping @Sendable (Result<T, any Error>) -> Void) throws -> Void
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            self.performDeferred(body) { continuation.resume(with: $0) }
        }
    }

    /// `performDeferred` handing its result to `completion` (on the queue, once durable) instead of an async caller.
    func performDeferred<T>(
        _ body: @escaping @Sendable (_ finish: @escaping @Sendable (Result<T, any Error>) -> Void) throws -> Void,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        self.post {
            do {
                try body { result in self.whenDurable { completion(result) } }
            } catch {
                self.whenDurable { completion(.failure(error)) }
            }
        }
    }

    /// Runs one job of the queue; the SQLite store checks once per job whether another process wrote the file.
    private func asOneTurn<T>(_ body: () throws -> T) rethrows -> T {
        guard let sqlite = self.sqliteStore else { return try body() }
        sqlite.beginTurn()
        defer { sqlite.endTurn() }
        return try body()
    }

    /// Runs `body` on the queue and waits (start-up, shutdown and tests only: never from an event loop). What
    /// `body` wrote is committed when this returns.
    func sync<T>(_ body: () throws -> T) rethrows -> T {
        try self.queue.sync {
            self.commitGathered()
            defer { self.commitGathered() }
            return try body()
        }
    }

    // MARK: Start and stop (on the queue)

    /// Restart recovery: queued requests go back to their FIFOs; those a worker held when the server died are
    /// queued again (or fail when they used up their deliveries).
    func start() throws {
        if self.cluster != nil {
            // Requests other nodes hold are theirs: only the reaper moves those of nodes that died.
            try self.joinCluster()
            return
        }
        self.nextQueueOrder = try self.store.maxQueueOrder() + 1
        let now = self.clock()
        for var record in try self.store.activeRequests() {
            if record.status == .processing {
                let next = RequestLifecycle.next(.processing, on: .workerLost(deliveries: record.deliveries,
                                                                              maxDeliveries: self.options.maxDeliveries))
                record.status = next ?? .failed
                record.workerID = nil
                record.updatedAt = now
                if record.status == .failed {
                    record.error = "delivered \(record.deliveries) times without a result"
                    record.finishedAt = now
                }
                try self.store.updateRequest(record)
            }
            if record.status == .queued {
                self.fifos[record.spaceID, default: RequestFIFO()].insert(id: record.id, order: record.queueOrder)
            }
        }
    }

    /// Stops dispatching; requests in flight keep their workers until `requeueInFlight`.
    func beginDraining() {
        self.draining = true
    }

    /// Requests still held by workers go back to the head of their queues without counting the delivery
    /// (the server, not the worker, cut them short).
    func requeueInFlight() {
        self.cancelTimeoutTimer()
        if self.cluster != nil {
            self.leaveCluster()
            return
        }
        let now = self.clock()
        for (requestID, flight) in self.inFlight {
            guard var record = try? self.store.request(id: requestID), record.status == .processing else { continue }
            record.status = .queued
            record.workerID = nil
            record.deliveries = max(0, record.deliveries - 1)
            record.updatedAt = now
            try? self.store.updateRequest(record)
            self.workers[flight.workerID]?.registrations[flight.spaceID]?.inFlight.remove(requestID)
            self.fifos[record.spaceID, default: RequestFIFO()].insert(id: record.id, order: record.queueOrder)
        }
        self.inFlight.removeAll()
    }

    // MARK: Queries (on the queue)

    /// Number of workers registered for `spaceID`.
    func workerCount(spaceID: Int64) -> Int {
        if let cluster { return (try? cluster.clusterWorkerCount(spaceID: spaceID)) ?? 0 }
        return self.holders[spaceID]?.count ?? 0
    }

    /// Requests waiting in `spaceID`'s queue.
    func queueSize(spaceID: Int64) -> Int {
        if let cluster { return (try? cluster.requestCount(spaceID: spaceID, status: .queued)) ?? 0 }
        return self.fifos[spaceID]?.count ?? 0
    }

    /// The queue size the `maxQueuedPerSpace` limit is checked against. On a cluster, counting the shared queue
    /// costs a scan of it, so the count is reused for a second: the limit is a safety net, not an exact quota.
    func queueSizeForLimit(spaceID: Int64) -> Int {
        guard self.cluster != nil else { return self.queueSize(spaceID: spaceID) }
        let now = self.clock()
        if let known = self.queuedEstimate[spaceID], now - known.at < 1 { return known.count }
        let count = self.queueSize(spaceID: spaceID)
        self.queuedEstimate[spaceID] = (count, now)
        return count
    }

    /// Requests being processed in `spaceID`.
    func processingCount(spaceID: Int64) -> Int {
        if let cluster { return (try? cluster.requestCount(spaceID: spaceID, status: .processing)) ?? 0 }
        return (self.holders[spaceID] ?? []).reduce(0) { total, id in
            total + (self.workers[id]?.registrations[spaceID]?.inFlight.count ?? 0)
        }
    }

    /// 1-based position of a queued request.
    func queuePosition(_ record: RequestRecord) -> Int? {
        guard record.status == .queued else { return nil }
        if let cluster {
            // A submission asks twice in one turn (its live update, then its answer): one query.
            if let known = self.lastPosition, known.id == record.id { return known.position }
            guard let position = try? cluster.queuePosition(spaceID: record.spaceID, queueOrder: record.queueOrder) else {
                return nil
            }
            self.lastPosition = (record.id, position)
            self.queue.async { self.lastPosition = nil }
            return position
        }
        return self.fifos[record.spaceID]?.position(id: record.id, order: record.queueOrder)
    }

    var workerConnectionCount: Int { self.workers.count }
}
