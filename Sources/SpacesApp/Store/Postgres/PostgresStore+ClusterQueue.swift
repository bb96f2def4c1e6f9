/// The cluster queue in PostgreSQL: every node reads and claims the same rows.
extension PostgresStore: ClusterQueueStore {
    /// The channel nodes LISTEN on for wake-ups.
    static let wakeChannel = PostgresPool.notifyChannel
    /// The database's clock, in seconds since 1970 (leases use it, so node clocks may differ).
    private static let databaseNow = "EXTRACT(EPOCH FROM clock_timestamp())"

    // MARK: Nodes

    func joinCluster(nodeID: String, address: String, leaseSeconds: Double, maxDeliveries: Int, now: Double) throws
        -> [RequestRecord]
    {
        // A rejoin after this node was reaped: what it held was moved by others, unheard.
        self.db.rowCache.dropAll()
        return try self.db.transaction {
            try self.db.run("""
                INSERT INTO nodes (id, address, started_at, lease_expires)
                VALUES (?, ?, \(Self.databaseNow), \(Self.databaseNow) + ?)
                ON CONFLICT (id) DO UPDATE SET address = EXCLUDED.address, lease_expires = EXCLUDED.lease_expires
                """, nodeID, address, leaseSeconds)
            // What a previous run of this node left (it died): its workers are gone, its requests go back.
            try self.db.run("DELETE FROM worker_registrations WHERE node_id = ?", nodeID)
            return try self.returnLostRequests(on: self.db, where: "node_id = ?", nodeID, maxDeliveries: maxDeliveries,
                                               now: now)
        }
    }

    func renewLease(nodeID: String, address: String, leaseSeconds: Double) throws -> Bool {
        // A lost renewal is renewed again 3 s later: no need to wait for the disk.
        try self.redeliverable.run("UPDATE nodes SET lease_expires = \(Self.databaseNow) + ?, address = ? WHERE id = ?",
                        leaseSeconds, address, nodeID) == 1
    }

    func leaveCluster(nodeID: String) throws {
        try self.db.transaction {
            try self.db.run("DELETE FROM worker_registrations WHERE node_id = ?", nodeID)
            try self.db.run("DELETE FROM nodes WHERE id = ?", nodeID)
        }
    }

    func clusterNodes() throws -> [ClusterNodeRow] {
        try self.db.query("SELECT id, address, lease_expires - \(Self.databaseNow) FROM nodes ORDER BY started_at, id") {
            ClusterNodeRow(id: $0.text(0), address: $0.text(1), leaseSecondsLeft: $0.double(2))
        }
    }

    func reapLostNodes(expireLeases: Bool, maxDeliveries: Int, now: Double) throws -> [RequestRecord] {
        // Lost in a crash of PostgreSQL, the next reaper run does it again.
        let db = self.redeliverable
        return try db.transaction {
            if expireLeases {
                try db.run("DELETE FROM nodes WHERE lease_expires < \(Self.databaseNow)")
            }
            try db.run("""
                DELETE FROM worker_registrations r WHERE NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = r.node_id)
                """)
            return try self.returnLostRequests(
                on: db, where: "NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = requests.node_id)", maxDeliveries: maxDeliveries, now: now)
        }
    }

    /// Processing requests matching `condition` whose node is gone: back to the head (they keep their queue
    /// order), the delivery they got counted, or failed once they used them all (as a worker disconnect does on
    /// one node). Oldest first.
    private func returnLostRequests(on db: PostgresPool, where condition: String, _ parameters: SQLBindable...,
                                    maxDeliveries: Int, now: Double) throws -> [RequestRecord]
    {
        let values: [SQLBindable] = [maxDeliveries, maxDeliveries, maxDeliveries, now, now] + parameters
        let moved = try db.query("""
            UPDATE requests SET
                status = CASE WHEN deliveries >= ? THEN 'failed' ELSE 'queued' END,
                error = CASE WHEN deliveries >= ? THEN \(Self.lostError) ELSE error END,
                finished_at = CASE WHEN deliveries >= ? THEN ? ELSE finished_at END,
                worker_id = NULL, node_id = NULL, progress = NULL, progress_message = NULL, updated_at = ?
            WHERE status = 'processing' AND \(condition)
            RETURNING \(StoreRows.requestColumns)
            """, parameters: values.map(\.sqlValue), map: StoreRows.requestFromRow)
            .sorted { $0.queueOrder < $1.queueOrder }
        for record in moved { self.db.rowCache.dropRequest(record.id) }
        return moved
    }

    /// The error of a request that used up its deliveries (the single node's words, with the count).
    static let lostError = """
        'Request failed: delivered to a worker ' || deliveries || ' times and every worker disconnected before answering'
        """

    // MARK: Workers

    func addRegistration(_ r: ClusterRegistration, maxWorkers: Int) throws -> Bool {
        try self.db.transaction {
            // The space's row lock serialises registrations for it across nodes: count and insert are one step.
            _ = try self.db.queryFirst("SELECT id FROM spaces WHERE id = ? FOR UPDATE", r.spaceID) { $0.int64(0) }
            let count = try self.db.scalar("SELECT COUNT(*) FROM worker_registrations WHERE space_id = ?", r.spaceID)
            guard count < Int64(max(1, maxWorkers)) else { return false }
            try self.db.run("""
                INSERT INTO worker_registrations (worker_id, space_id, node_id, concurrency, address, registered_at)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (worker_id, space_id) DO UPDATE SET concurrency = EXCLUDED.concurrency
                """, r.workerID, r.spaceID, r.nodeID, r.concurrency, r.address, r.registeredAt)
            return true
        }
    }

    func removeRegistrations(workerID: String) throws {
        try self.db.run("DELETE FROM worker_registrations WHERE worker_id = ?", workerID)
    }

    func clusterRegistrations() throws -> [ClusterRegistrationRow] {
        try self.db.query("""
            SELECT r.worker_id, r.space_id, r.node_id, r.concurrency, r.address, r.registered_at,
                COALESCE(n.address, ''),
                (SELECT COUNT(*) FROM requests q WHERE q.status = 'processing' AND q.worker_id = r.worker_id
                    AND q.space_id = r.space_id)
            FROM worker_registrations r LEFT JOIN nodes n ON n.id = r.node_id
            ORDER BY r.space_id, r.registered_at
            """) { row in
            ClusterRegistrationRow(
                registration: ClusterRegistration(workerID: row.text(0), spaceID: row.int64(1), nodeID: row.text(2),
                                                  concurrency: row.int(3), address: row.text(4), registeredAt: row.double(5)),
                nodeAddress: row.text(6), inFlight: row.int(7))
        }
    }

    func clusterWorkerCount(spaceID: Int64) throws -> Int {
        Int(try self.db.scalar("SELECT COUNT(*) FROM worker_registrations WHERE space_id = ?", spaceID))
    }

    // MARK: The shared FIFO

    func spaceCounts(spaceID: Int64) throws -> SpaceCounts {
        try self.db.queryFirst("""
            SELECT (SELECT COUNT(*) FROM worker_registrations WHERE space_id = ?),
                COUNT(*) FILTER (WHERE status = 'queued'), COUNT(*) FILTER (WHERE status = 'processing')
            FROM requests WHERE space_id = ? AND status IN ('queued', 'processing')
            """, spaceID, spaceID) { SpaceCounts(workers: $0.int(0), queued: $0.int(1), processing: $0.int(2)) } ?? SpaceCounts()
    }

    func requestCount(spaceID: Int64, status: RequestStatus) throws -> Int {
        Int(try self.db.scalar("SELECT COUNT(*) FROM requests WHERE space_id = ? AND status = ?", spaceID, status.rawValue))
    }

    func queuePosition(spaceID: Int64, queueOrder: Int64) throws -> Int {
        if let known = self.positions.take(spaceID: spaceID, queueOrder: queueOrder) { return known }
        return Int(try self.db.scalar("""
            SELECT COUNT(*) FROM requests WHERE space_id = ? AND status = 'queued' AND queue_order <= ?
            """, spaceID, queueOrder))
    }

    func acceptRequest(_ record: RequestRecord, rules: SubmissionRules, wake: String, claim: ClusterSlot?) throws
        -> SubmissionOutcome
    {
        let generation = self.db.rowCache.generation
        let limited = rules.rateLimitSeconds > 0 || rules.dailyQuota > 0
        // Without limits the INSERT alone does it (one statement, one transaction).
        return try (limited ? self.submissions.transaction : { try $0() }) {
            if limited {
                // One submission per user at a time, on every node: the limits below count what is committed.
                _ = try self.submissions.queryFirst("SELECT id FROM users WHERE id = ? FOR UPDATE", record.userID) { $0.int64(0) }
                // After the lock (a statement of its own, so that it sees what the previous holder committed), over
                // the window that matters: today for the quota, the last `rateLimitSeconds` for the rate limit.
                let day = rules.dailyQuota > 0 ? rules.dayStart : .infinity
                let rate = rules.rateLimitSeconds > 0 ? record.createdAt - Double(rules.rateLimitSeconds) : .infinity
                let (last, used) = try self.submissions.queryFirst("""
                    SELECT MAX(created_at) FILTER (WHERE space_id = ?), COUNT(*) FILTER (WHERE created_at >= ?)
                    FROM requests WHERE user_id = ? AND created_at >= ?
                    """, record.spaceID, rules.dayStart, record.userID, min(day, rate)) {
                    ($0.optionalDouble(0), $0.int(1))
                } ?? (nil, 0)
                if rules.rateLimitSeconds > 0, let last {
                    let wait = Double(rules.rateLimitSeconds) - (record.createdAt - last)
                    if wait > 0 { return .rateLimited(retryAfter: Int(wait.rounded(.up))) }
                }
                if rules.dailyQuota > 0 && used >= rules.dailyQuota { return .quotaExceeded(used: used) }
            }
            let r = record
            // `claim` row: the slot, only when given and nothing waits in the space (read in this statement's
            // snapshot, as a claim reads the head). Without it the request is inserted queued, as given.
            // A queued request wakes the other nodes only when one of them has a worker for the space (the wake
            // payload ends with the sender's node id): a worker registering meanwhile claims when it registers,
            // or at the next sweep when both commits cross.
            let stored = try self.submissions.queryFirst("""
                WITH claim AS (
                    SELECT CAST(? AS TEXT) AS worker, CAST(? AS TEXT) AS node, CAST(? AS DOUBLE PRECISION) AS at
                    WHERE CAST(? AS TEXT) IS NOT NULL
                        AND NOT EXISTS (SELECT 1 FROM requests WHERE space_id = ? AND status = 'queued'))
                INSERT INTO requests (id, space_id, user_id, username, payload, status, result, error, token, deliveries,
                    worker_id, node_id, progress, progress_message, queue_order, created_at, updated_at, started_at,
                    finished_at, base_url)
                VALUES (?, ?, ?, ?, ?, COALESCE((SELECT 'processing' FROM claim), ?), ?, ?, ?,
                    ? + (SELECT COUNT(*) FROM claim), COALESCE((SELECT worker FROM claim), ?), (SELECT node FROM claim),
                    ?, ?, nextval('requests_queue_order'), ?, ?, COALESCE((SELECT at FROM claim), ?), ?, ?)
                RETURNING queue_order, status, CASE WHEN status = 'queued' AND EXISTS (SELECT 1 FROM worker_registrations
                    WHERE space_id = ? AND node_id <> split_part(?, ' ', 3)) THEN pg_notify(?, ?) END,
                    CASE WHEN status = 'queued' THEN 1 + (SELECT COUNT(*) FROM requests q WHERE q.space_id = ?
                        AND q.status = 'queued' AND q.queue_order < requests.queue_order) END
                """, claim?.workerID, claim?.nodeID, r.createdAt, claim?.workerID, r.spaceID,
                r.id, r.spaceID, r.userID, r.username, r.payload, r.status.rawValue, r.result, r.error, r.token,
                r.deliveries, r.workerID, r.progress, r.progressMessage, r.createdAt, r.updatedAt, r.startedAt,
                r.finishedAt, r.baseURL, r.spaceID, wake, Self.wakeChannel, wake, r.spaceID,
                map: { (order: $0.int64(0), claimed: $0.text(1) == RequestStatus.processing.rawValue,
                        position: $0.isNull(3) ? nil : $0.int(3)) })
            var accepted = record
            accepted.queueOrder = stored?.order ?? 0
            // Its position when queued, counted in the insert's snapshot (its own row is not in it, hence the 1 +):
            // the answer to the submitter shows it, without a round trip of its own.
            if let position = stored?.position {
                self.positions.note(spaceID: record.spaceID, queueOrder: accepted.queueOrder, position: position)
            }
            if let claim, stored?.claimed == true {
                accepted.status = .processing
                accepted.deliveries += 1
                accepted.workerID = claim.workerID
                accepted.startedAt = record.createdAt
                // Held by this node's worker: kept, as a claim's record is.
                self.db.rowCache.keep([accepted], since: generation)
            }
            return .accepted(accepted)
        }
    }

    func claimNext(spaceID: Int64, workerID: String, nodeID: String, now: Double) throws -> RequestRecord? {
        try self.claimHeads(spaceID: spaceID, workerIDs: [workerID], nodeID: nodeID, now: now).first
    }

    func claimHeads(spaceID: Int64, workerIDs: [String], nodeID: String, now: Double) throws -> [RequestRecord] {
        guard let firstWorker = workerIDs.first else { return [] }
        let generation = self.db.rowCache.generation
        let claimed = workerIDs.count == 1
            ? try self.claimHead(spaceID: spaceID, workerID: firstWorker, nodeID: nodeID, now: now).map { [$0] } ?? []
            : try self.claimSeveralHeads(spaceID: spaceID, workerIDs: workerIDs, nodeID: nodeID, now: now)
        // Held by this node's workers now: their rows change only through this node (or a cancel it hears of).
        self.db.rowCache.keep(claimed, since: generation)
        return claimed
    }

    /// One slot free (most claims): the plain statement, cheaper for PostgreSQL to plan and run.
    private func claimHead(spaceID: Int64, workerID: String, nodeID: String, now: Double) throws -> RequestRecord? {
        // One statement, so one transaction: the head is locked (rows another node is claiming right now are
        // skipped, not waited for), re-checked and taken.
        // Asynchronous commit: a claim lost in a crash of PostgreSQL leaves the request queued (the claimer's
        // `reconcileHeld` drops its copy); one that reached the disk but not the worker is returned by it.
        try self.redeliverable.queryFirst(Self.claimHeadSQL, workerID, nodeID, now, now, spaceID,
                                          map: StoreRows.requestFromRow)
    }

    /// Built once: the statement runs for most results, and interpolating the columns each time is not free.
    private static let claimHeadSQL = """
        UPDATE requests SET status = 'processing', deliveries = deliveries + 1, worker_id = ?, node_id = ?,
            started_at = ?, updated_at = ?, progress = NULL, progress_message = NULL
        WHERE id = (
            SELECT id FROM requests WHERE space_id = ? AND status = 'queued'
            ORDER BY queue_order LIMIT 1 FOR UPDATE SKIP LOCKED)
        AND status = 'queued'
        RETURNING \(StoreRows.requestColumns)
        """

    private func claimSeveralHeads(spaceID: Int64, workerIDs: [String], nodeID: String, now: Double) throws
        -> [RequestRecord]
    {
        // One statement, so one transaction and one round trip: up to `workerIDs.count` heads are locked (rows
        // another node is claiming right now are skipped, not waited for), numbered in queue order (a window
        // cannot sit beside FOR UPDATE, hence the second step), re-checked and given to the slot of that number.
        try self.redeliverable.query("""
            WITH locked AS (
                SELECT id, queue_order FROM requests WHERE space_id = ? AND status = 'queued'
                ORDER BY queue_order LIMIT ? FOR UPDATE SKIP LOCKED),
            heads AS (SELECT id, row_number() OVER (ORDER BY queue_order) AS slot FROM locked)
            UPDATE requests SET status = 'processing', deliveries = deliveries + 1,
                worker_id = (CAST(? AS TEXT[]))[heads.slot], node_id = ?,
                started_at = ?, updated_at = ?, progress = NULL, progress_message = NULL
            FROM heads WHERE requests.id = heads.id AND requests.status = 'queued'
            RETURNING \(Self.claimedColumns)
            """, spaceID, workerIDs.count, Self.textArray(workerIDs), nodeID, now, now, map: StoreRows.requestFromRow)
            .sorted { $0.queueOrder < $1.queueOrder }
    }

    /// The request columns qualified by their table (`heads` has an `id` too).
    private static let claimedColumns = StoreRows.requestColumns.split(separator: ",")
        .map { "requests." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", ")

    /// `values` as a PostgreSQL array literal (`{"a","b"}`), every element quoted and escaped.
    static func textArray(_ values: [String]) -> String {
        // Byte by byte: Foundation's replacingOccurrences cost more than the claim that sends the array.
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "\""))
            for byte in value.utf8 {
                if byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\"") { bytes.append(UInt8(ascii: "\\")) }
                bytes.append(byte)
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    func returnToQueue(requestID: String, workerID: String, countDelivery: Bool, maxDeliveries: Int, now: Double) throws
        -> RequestRecord?
    {
        let deliveries = countDelivery ? "deliveries" : "GREATEST(deliveries - 1, 0)"
        // Queued again (any node may claim it) or failed: re-read from now on.
        self.db.rowCache.dropRequest(requestID)
        // Lost in a crash of PostgreSQL, the request is still `processing` here: `reconcileHeld` returns it.
        return try self.redeliverable.queryFirst("""
            UPDATE requests SET
                status = CASE WHEN \(deliveries) >= ? THEN 'failed' ELSE 'queued' END,
                error = CASE WHEN \(deliveries) >= ? THEN \(Self.lostError) ELSE error END,
                finished_at = CASE WHEN \(deliveries) >= ? THEN ? ELSE finished_at END,
                deliveries = \(deliveries),
                worker_id = NULL, node_id = NULL, progress = NULL, progress_message = NULL, updated_at = ?
            WHERE id = ? AND status = 'processing' AND worker_id = ?
            RETURNING \(StoreRows.requestColumns)
            """, maxDeliveries, maxDeliveries, maxDeliveries, now, now, requestID, workerID,
            map: StoreRows.requestFromRow)
    }

    func updateRequest(_ r: RequestRecord, ifStillStatus status: RequestStatus, workerID: String?) throws -> Bool {
        try self.updateRequest(r, ifStillStatus: status, workerID: workerID, thenClaimFor: nil, now: 0).saved
    }

    func updateRequest(_ r: RequestRecord, ifStillStatus status: RequestStatus, workerID: String?,
                       thenClaimFor slot: ClusterSlot?, now: Double) throws -> (saved: Bool, claimed: RequestRecord?)
    {
        let generation = self.db.rowCache.generation
        // A result, progress or status lost in a crash of PostgreSQL leaves the request `processing` on this node,
        // which no longer holds it: `reconcileHeld` sends it back to the queue (a redelivery). A claim lost with it
        // leaves its request queued, as a lost `claimNext` does.
        let update: [SQLBindable] = [r.status.rawValue, r.result, r.error, r.deliveries, r.workerID, r.progress,
                                     r.progressMessage, r.updatedAt, r.startedAt, r.finishedAt, r.status.rawValue, r.id,
                                     status.rawValue, workerID]
        let saved: Bool, claimed: RequestRecord?
        if let slot {
            let row = try self.redeliverable.queryFirst(
                Self.updateThenClaimSQL,
                parameters: (update + [slot.workerID, slot.nodeID, now, now, r.spaceID, r.id]).map(\.sqlValue)) { row in
                (saved: row.int64(0) == 1,
                 claimed: row.isNull(1) ? nil : StoreRows.requestFromRow(ColumnsFrom(row: row, first: 1)))
            }
            (saved, claimed) = (row?.saved ?? false, row?.claimed)
        } else {
            saved = try self.redeliverable.run(Self.updateSQL, parameters: update.map(\.sqlValue)) == 1
            claimed = nil
        }
        // Written as it now stands: final, or still held here (progress). Otherwise someone else moved it.
        if saved && (r.status.isFinal || (r.status == .processing && r.workerID == workerID && workerID != nil)) {
            self.db.rowCache.keep([r], since: generation)
        } else {
            self.db.rowCache.dropRequest(r.id)
        }
        // Held by this node's worker now, as `claimHeads` keeps what it claims.
        if let claimed { self.db.rowCache.keep([claimed], since: generation) }
        return (saved, claimed)
    }

    private static let updateSQL = """
        UPDATE requests SET status = ?, result = ?, error = ?, deliveries = ?, worker_id = ?, progress = ?,
            progress_message = ?, updated_at = ?, started_at = ?, finished_at = ?,
            node_id = CASE WHEN CAST(? AS TEXT) = 'processing' THEN node_id ELSE NULL END
        WHERE id = ? AND status = ? AND worker_id IS NOT DISTINCT FROM ?
        """

    /// `updateSQL`, then `claimHeadSQL` (never the updated row), in one statement: one row, the rows the update
    /// changed and the claimed request's columns (NULL when nothing was queued, or every head was being claimed).
    private static let updateThenClaimSQL = """
        WITH done AS (\(PostgresStore.updateSQL) RETURNING 1),
        claimed AS (
            UPDATE requests SET status = 'processing', deliveries = deliveries + 1, worker_id = ?, node_id = ?,
                started_at = ?, updated_at = ?, progress = NULL, progress_message = NULL
            WHERE id = (
                SELECT id FROM requests WHERE space_id = ? AND status = 'queued' AND id <> ?
                ORDER BY queue_order LIMIT 1 FOR UPDATE SKIP LOCKED)
            AND status = 'queued'
            RETURNING \(StoreRows.requestColumns))
        SELECT (SELECT COUNT(*) FROM done), claimed.* FROM (SELECT 1) AS one LEFT JOIN claimed ON true
        """

    // MARK: Reconciling

    func reconcileHeld(nodeID: String, held: [String: String], maxDeliveries: Int, now: Double) throws
        -> HeldReconciliation
    {
        let ids = held.keys.sorted()
        let idArray = Self.textArray(ids), workerArray = Self.textArray(ids.map { held[$0] ?? "" })
        let db = self.redeliverable
        return try db.transaction {
            // Shown processing here, not held here: a result or return that PostgreSQL lost, or a claim whose answer
            // never reached this node. Back to the head, the delivery counted, as for a lost node.
            let returned = try self.returnLostRequests(
                on: db, where: "node_id = ? AND NOT (id = ANY(CAST(? AS TEXT[])))", nodeID, idArray,
                maxDeliveries: maxDeliveries, now: now)
            // Held here, shown otherwise: a claim PostgreSQL lost (the request is queued again), or a move unheard.
            let gone = try db.query("""
                SELECT h.id FROM unnest(CAST(? AS TEXT[]), CAST(? AS TEXT[])) AS h(id, worker)
                WHERE NOT EXISTS (SELECT 1 FROM requests r WHERE r.id = h.id AND r.status = 'processing'
                    AND r.node_id = ? AND r.worker_id = h.worker)
                ORDER BY h.id
                """, idArray, workerArray, nodeID) { $0.text(0) }
            for id in gone { self.db.rowCache.dropRequest(id) }
            return HeldReconciliation(returned: returned, notHeld: gone)
        }
    }

    // MARK: Waking

    func wakeNodes(_ payload: String) throws {
        _ = try self.redeliverable.queryFirst("SELECT pg_notify(?, ?)", Self.wakeChannel, payload) { _ in 0 }
    }

    func wakeListener(onWake: @escaping @Sendable (String) -> Void, onConnect: @escaping @Sendable () -> Void)
        -> PostgresListener
    {
        // While it listens, this node hears of changes to spaces and users: it may keep copies of them.
        let cache = self.db.rowCache
        return PostgresListener(
            url: self.db.url, channel: Self.wakeChannel,
            onNotify: { payload in
                if payload == PostgresPool.rowsChangedPayload {
                    cache.dropAll()
                    return
                }
                // `x <request id> <node>`: another node ended a request held here; forget its copy first.
                if payload.hasPrefix(ClusterWake.ended.rawValue + " ") {
                    let parts = payload.split(separator: " ")
                    if parts.count > 1 { cache.dropRequest(String(parts[1])) }
                }
                onWake(payload)
            },
            onConnect: {
                // What changed while the listener was away went unheard: copies start afresh.
                cache.setEnabled(true)
                onConnect()
            },
            onDisconnect: { cache.setEnabled(false) })
    }
}

/// The columns of `row` from `first` on, numbered from 0 (a record that follows other columns in a row).
private struct ColumnsFrom<Row: SQLRow>: SQLRow {
    let row: Row
    let first: Int32

    func isNull(_ column: Int32) -> Bool { self.row.isNull(self.first + column) }
    func int64(_ column: Int32) -> Int64 { self.row.int64(self.first + column) }
    func double(_ column: Int32) -> Double { self.row.double(self.first + column) }
    func text(_ column: Int32) -> String { self.row.text(self.first + column) }
}
