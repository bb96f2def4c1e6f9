import Foundation

/// What a node runs to take part in the cluster queue: its lease, the reaper of lost nodes, and the
/// listener that wakes it when another node queues a request or ends one this node holds.
///
/// Wake-ups go through PostgreSQL LISTEN/NOTIFY rather than Redis: the queue lives in PostgreSQL, and a NOTIFY
/// sent in the transaction that inserts a request is delivered only when that transaction commits, so a node is
/// never woken before the row it should claim is visible; and the queue keeps working without `--redis` and
/// through a Redis outage. A periodic sweep covers notifications lost while the listener reconnects.
final class ClusterMembership: @unchecked Sendable {
    // Invariant for @unchecked Sendable: `timers`, `databaseUpSince` and `drainedQueues` are touched on the core's
    // queue only; `listener` is Sendable.

    /// Seconds a lease lasts: a node that stops renewing is reaped this long after its last renewal.
    static let leaseSeconds = 9.0
    /// Seconds between renewals (three chances before the lease runs out).
    static let renewSeconds = 3.0
    /// Seconds between two reaper runs and queue sweeps. A SIGKILLed node is reaped within
    /// `leaseSeconds + reapSeconds` (11 s) of its last renewal.
    static let reapSeconds = 2.0

    /// Since when (the node's clock) this node has reached the database without a break; nil while it cannot.
    /// The reaper expires other nodes' leases only after `leaseSeconds` of this, so that after a database outage
    /// the others have had their chance to renew before anyone is declared dead.
    var databaseUpSince: Double?
    var timers: [DispatchSourceTimer] = []
    /// Spaces whose shared queue this node's last claim found empty (it got fewer requests than it had free
    /// slots), and that no request was queued in since, as far as this node heard: a freed slot need not ask
    /// the database again. A space leaves the set when a wake-up says requests were queued in it, when this node
    /// queues or returns one, and at every sweep (which also covers wake-ups lost while the listener reconnects).
    var drainedQueues: Set<Int64> = []
    var listener: PostgresListener?

    deinit {
        // A core dropped without a clean stop (tests) must not leave the listening thread behind.
        self.stop()
    }

    /// Stops the timers and the listener.
    func stop() {
        for timer in self.timers { timer.cancel() }
        self.timers.removeAll()
        self.listener?.stop()
        self.listener = nil
    }
}

/// What a wake-up says (NOTIFY payload `"<kind> <subject> <node id>"`).
enum ClusterWake: String, Sendable {
    /// `q <space id>`: requests were queued in the space; nodes with free slots claim.
    case queued = "q"
    /// `x <request id>`: a request a worker holds was ended elsewhere (canceled); its node tells the worker.
    case ended = "x"
}
