/// The store on a PostgreSQL server (`--database postgres://user:password@host:port/db`), for sites whose
/// nodes share one database. Calls go through a small pool of connections with prepared statements.
///
/// Two pools: `db` commits durably (a commit returns once PostgreSQL flushed its WAL), for everything a user
/// or an admin wrote, submissions first. `redeliverable` commits asynchronously (`synchronous_commit=off`),
/// for the queue's own moves whose loss in a crash of PostgreSQL only means a redelivery: claims, results,
/// progress, returns to the queue, leases. Such a commit is visible at once and reaches the disk within
/// ~0.6 s (PostgreSQL's WAL writer), or with the next durable commit, whichever is first; it is lost only when
/// PostgreSQL itself crashes before that, the same class as SQLite's WAL with `synchronous=NORMAL`. What a
/// node holds is reconciled with the database whenever its listener reconnects and at every sweep
/// (`reconcileHeld`), so a lost claim or result does not leave a request `processing` for ever.
///
/// `submissions` commits durably too, and serves only `acceptRequest`, which the core runs off its queue: a
/// submission waiting for its commit (a WAL flush, milliseconds) never holds a connection the core needs.
final class PostgresStore: SQLBackedStore {
    let db: PostgresPool
    let redeliverable: PostgresPool
    let submissions: PostgresPool
    /// Positions read with their requests, for the `queuePosition` call that follows.
    let positions = QueuePositionHints()
    var backendName: String { "postgres" }

    /// Connects and brings the schema up to date (several nodes may do so at once).
    init(url: String, poolSize: Int = 4) throws {
        self.db = PostgresPool(url: url, size: poolSize)
        self.redeliverable = PostgresPool(url: url, size: 2, sessionOptions: "-c synchronous_commit=off")
        self.submissions = PostgresPool(url: url, size: SubmissionCommits.laneCount)
        try self.db.withConnection { try Migrations.migrate($0) }
    }

    func close() {
        self.db.close()
        self.redeliverable.close()
        self.submissions.close()
    }

    // Spaces, users and requests through the row cache (kept while the node listens; see `PostgresRowCache`).

    func space(id: Int64) throws -> Space? {
        try self.db.rowCache.space(id) {
            try self.db.queryFirst("SELECT \(StoreRows.spaceColumns) FROM spaces WHERE id = ?", id, map: StoreRows.spaceFromRow)
        }
    }

    func user(id: Int64) throws -> User? {
        try self.db.rowCache.user(id) {
            try self.db.queryFirst("SELECT \(StoreRows.userColumns) FROM users WHERE id = ?", id, map: StoreRows.userFromRow)
        }
    }

    func request(id: String) throws -> RequestRecord? {
        try self.db.rowCache.request(id) {
            // A queued request's position comes with it (a status read asks for both): one round trip, not two.
            let read = try self.db.queryFirst(Self.requestWithPosition, id) { row in
                (StoreRows.requestFromRow(row), row.isNull(Self.positionColumn) ? nil : row.int(Self.positionColumn))
            }
            if let (record, position) = read, let position {
                self.positions.note(spaceID: record.spaceID, queueOrder: record.queueOrder, position: position)
            }
            return read?.0
        }
    }

    func requests(ids: [String]) throws -> [String: RequestRecord] {
        // No request id holds a NUL byte (PostgreSQL text cannot), and libpq would cut the array literal there:
        // one such id would fail the statement for every read that waited with it.
        let possible = ids.contains { $0.utf8.contains(0) } ? ids.filter { !$0.utf8.contains(0) } : ids
        return try self.db.rowCache.requests(possible) { missing in
            var read: [RequestRecord] = []
            // In slices, so that one statement's parameter stays small however many reads waited.
            for start in stride(from: 0, to: missing.count, by: Self.idsPerRead) {
                let slice = missing[start..<min(start + Self.idsPerRead, missing.count)]
                read += try self.db.query(Self.requestsWithPositions, Self.textArray(Array(slice))) { row in
                    let record = StoreRows.requestFromRow(row)
                    if !row.isNull(Self.positionColumn) {
                        self.positions.note(spaceID: record.spaceID, queueOrder: record.queueOrder,
                                            position: row.int(Self.positionColumn))
                    }
                    return record
                }
            }
            return read
        }
    }

    /// Ids asked for in one statement at most.
    private static let idsPerRead = 64

    /// The request's columns, then its 1-based queue position when queued (as `queuePosition` counts it).
    private static let requestWithPosition = requestsWithPositions(matching: "r.id = ?")
    /// `requestWithPosition` for every id in a text array.
    private static let requestsWithPositions = requestsWithPositions(matching: "r.id = ANY(CAST(? AS TEXT[]))")

    private static func requestsWithPositions(matching condition: String) -> String {
        """
        SELECT \(StoreRows.requestColumns),
            CASE WHEN r.status = 'queued' THEN (SELECT COUNT(*) FROM requests q WHERE q.space_id = r.space_id
                AND q.status = 'queued' AND q.queue_order <= r.queue_order) END
        FROM requests r WHERE \(condition)
        """
    }
    private static let positionColumn: Int32 = 19
}
