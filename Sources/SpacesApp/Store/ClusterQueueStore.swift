/// A store that can hold one queue for several nodes (PostgreSQL): the FIFO of every space, the workers
/// registered on every node, and each node's lease live in the database, and nodes claim requests atomically.
///
/// A core whose store conforms runs the cluster path (`SpacesCore+Cluster*.swift`); SQLite keeps the in-memory
/// path of one node. Every call blocks and runs on the core's queue, except `acceptRequest`, which the core runs
/// off it (see `SubmissionCommits`) and must therefore be safe on any thread.
protocol ClusterQueueStore: SpacesStore {
    // MARK: Nodes and leases (times are the database's clock, so nodes need not agree on theirs)

    /// Adds (or refreshes) node `nodeID` with a lease of `leaseSeconds`. What an earlier run of the same node
    /// left behind (it died) is released at once: its registrations dropped, the requests it held sent back to
    /// the head of their queues (returned).
    func joinCluster(nodeID: String, address: String, leaseSeconds: Double, maxDeliveries: Int, now: Double) throws
        -> [RequestRecord]
    /// Renews the lease (and notes the node's address); false when the row is gone (another node reaped this one).
    func renewLease(nodeID: String, address: String, leaseSeconds: Double) throws -> Bool
    /// Removes the node and its worker registrations (a clean stop).
    func leaveCluster(nodeID: String) throws
    /// Live nodes: id, address, seconds of lease left.
    func clusterNodes() throws -> [ClusterNodeRow]
    /// In one transaction: deletes nodes whose lease expired (only when `expireLeases`), drops the worker
    /// registrations of nodes that no longer exist, and sends the requests those nodes held back to the head of
    /// their queues (or fails them after `maxDeliveries`). Returns the requests it moved. Two reapers at once
    /// never move a request twice: the rows are locked and re-checked.
    func reapLostNodes(expireLeases: Bool, maxDeliveries: Int, now: Double) throws -> [RequestRecord]

    // MARK: Workers

    /// Registers `workerID` for `spaceID` unless the space already has `maxWorkers` registrations on the whole
    /// cluster (checked and inserted under a lock on the space's row). False when full.
    func addRegistration(_ registration: ClusterRegistration, maxWorkers: Int) throws -> Bool
    /// Drops every registration of `workerID`.
    func removeRegistrations(workerID: String) throws
    /// Every registration of the cluster with its node and the requests it holds, for the admin pages.
    func clusterRegistrations() throws -> [ClusterRegistrationRow]
    /// Workers registered for `spaceID` on every node.
    func clusterWorkerCount(spaceID: Int64) throws -> Int

    // MARK: The shared FIFO

    /// Workers, queued and processing requests of `spaceID` on the whole cluster, in one query.
    func spaceCounts(spaceID: Int64) throws -> SpaceCounts
    /// Requests of `spaceID` in `status`.
    func requestCount(spaceID: Int64, status: RequestStatus) throws -> Int
    /// 1-based position of a queued request with `queueOrder` in `spaceID`'s queue.
    func queuePosition(spaceID: Int64, queueOrder: Int64) throws -> Int
    /// Accepts a submission atomically for the whole cluster: under a lock on the user's row, checks the rate
    /// limit and the daily quota against the stored requests, inserts `record` with the next queue order of the
    /// cluster and wakes the other nodes. Returns the stored record.
    ///
    /// With `claim` (a free slot of a worker on the submitting node), a request that finds nobody queued ahead
    /// of it in its space is stored already claimed for that worker (`processing`, one delivery): the insert and
    /// the claim are one statement and one commit, and nobody needs waking.
    func acceptRequest(_ record: RequestRecord, rules: SubmissionRules, wake: String, claim: ClusterSlot?) throws
        -> SubmissionOutcome
    /// Claims the head of `spaceID`'s queue for `workerID` on `nodeID` (`FOR UPDATE SKIP LOCKED`): the request
    /// becomes `processing` with one more delivery. Nil when nothing is queued (or every head is being claimed).
    func claimNext(spaceID: Int64, workerID: String, nodeID: String, now: Double) throws -> RequestRecord?
    /// Claims up to `workerIDs.count` heads of `spaceID`'s queue in one statement, the first head for the first
    /// worker of the list and so on (a worker appears once per free slot). The claimed records, in queue order;
    /// fewer than asked when the queue holds fewer (or other nodes hold the rest locked right now).
    func claimHeads(spaceID: Int64, workerIDs: [String], nodeID: String, now: Double) throws -> [RequestRecord]
    /// Puts a processing request held by `workerID` back at the head of its queue (`countDelivery` false: the
    /// server, not the worker, cut it short), or fails it after `maxDeliveries`. Nil when it was no longer held
    /// by that worker.
    func returnToQueue(requestID: String, workerID: String, countDelivery: Bool, maxDeliveries: Int, now: Double) throws
        -> RequestRecord?
    /// Writes `record` only while the stored request is still `expected` (status and worker): a node can never
    /// overwrite a request another node or a reaper moved meanwhile. False when it changed.
    func updateRequest(_ record: RequestRecord, ifStillStatus status: RequestStatus, workerID: String?) throws -> Bool
    /// `updateRequest`, and with `slot` in the same statement (one round trip, one transaction) the head of the
    /// record's queue claimed for that slot as `claimNext` claims it (never the record itself). The claim does not
    /// depend on the write: it is made whether or not the write found the request as expected.
    func updateRequest(_ record: RequestRecord, ifStillStatus status: RequestStatus, workerID: String?,
                       thenClaimFor slot: ClusterSlot?, now: Double) throws -> (saved: Bool, claimed: RequestRecord?)

    // MARK: Reconciling after a crash of the database

    /// Reconciles what node `nodeID` holds in memory (`held`: request id → worker id) with the database, in one
    /// transaction. Requests the database shows `processing` on this node that it does not hold go back to the
    /// head of their queue, their delivery counted (failed after `maxDeliveries`), as a lost node's do. Held
    /// requests the database shows otherwise (queued again, ended, on another worker) are reported, for the node
    /// to drop. Claims and results commit asynchronously, so a crash of the database can lose either.
    func reconcileHeld(nodeID: String, held: [String: String], maxDeliveries: Int, now: Double) throws
        -> HeldReconciliation

    // MARK: Waking other nodes

    /// Sends `payload` to every node listening (LISTEN/NOTIFY; delivered when the caller's transaction commits).
    func wakeNodes(_ payload: String) throws
    /// A listener (not started) that hands every wake-up payload to `onWake`, and calls `onConnect` whenever it
    /// (re)starts listening.
    func wakeListener(onWake: @escaping @Sendable (String) -> Void, onConnect: @escaping @Sendable () -> Void)
        -> PostgresListener
}

extension ClusterQueueStore {
    /// Accepts a submission into the queue (never claimed at once).
    func acceptRequest(_ record: RequestRecord, rules: SubmissionRules, wake: String) throws -> SubmissionOutcome {
        try self.acceptRequest(record, rules: rules, wake: wake, claim: nil)
    }
}

/// A free slot a submission may be claimed for right away: the worker, and the node it is on.
struct ClusterSlot: Sendable, Equatable {
    var workerID: String
    var nodeID: String
}

/// One worker registration as the cluster stores it.
struct ClusterRegistration: Sendable, Equatable {
    var workerID: String
    var spaceID: Int64
    var nodeID: String
    var concurrency: Int
    var address: String
    var registeredAt: Double
}

/// A registration with what the admin pages show next to it.
struct ClusterRegistrationRow: Sendable, Equatable {
    var registration: ClusterRegistration
    var nodeAddress: String
    var inFlight: Int
}

/// How busy a space is.
struct SpaceCounts: Sendable, Equatable {
    var workers = 0
    var queued = 0
    var processing = 0
}

/// A live node.
struct ClusterNodeRow: Sendable, Equatable {
    var id: String
    var address: String
    var leaseSecondsLeft: Double
}

/// The per-user limits a submission is checked against.
struct SubmissionRules: Sendable {
    var rateLimitSeconds: Int
    var dailyQuota: Int
    /// Start of the current UTC day (seconds since 1970), for the quota.
    var dayStart: Double
}

/// What `reconcileHeld` found.
struct HeldReconciliation: Sendable, Equatable {
    /// Requests sent back to their queue (or failed), oldest first.
    var returned: [RequestRecord]
    /// Ids of held requests the database no longer shows as held by this node and that worker.
    var notHeld: [String]
}

/// What `acceptRequest` decided.
enum SubmissionOutcome: Sendable, Equatable {
    case accepted(RequestRecord)
    /// Seconds until the user may submit to this space again.
    case rateLimited(retryAfter: Int)
    /// Requests the user already made today.
    case quotaExceeded(used: Int)
}
