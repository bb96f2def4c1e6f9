/// The default store: one SQLite file in the data folder, used by one owner (the core queue).
///
/// The hot reads (`request(id:)`, `user(id:)`, `space(id:)`) are answered from the rows this store wrote or read
/// lately (`RecordCache`), since this store writes the file: a status read or a submit then costs no SQL.
final class SQLiteStore: SQLBackedStore {
    let db: Database
    var backendName: String { "sqlite" }
    private var cache = RecordCache()
    /// `PRAGMA data_version` when the cache was last known current: another connection's commit changes it.
    private var seenDataVersion: Int64 = 0

    /// Opens (creating if needed) the database file and brings the schema up to date. One SQLite file belongs
    /// to one node (several nodes share PostgreSQL instead). The file stays readable by other processes (no
    /// exclusive locking mode), so `sqlite3 .backup` can copy it while we run.
    init(path: String) throws {
        self.db = try Database(path: path)
        try Migrations.migrate(self.db)
        self.seenDataVersion = try self.db.dataVersion()
    }

    func close() {
        self.db.close()
    }

    func transaction<T>(_ body: () throws -> T) throws -> T {
        do {
            return try self.db.transaction(body)
        } catch {
            // Rows written inside were kept as written; the rollback undid them.
            self.cache.removeAll()
            throw error
        }
    }

    /// `Database.writingTogether`; when a write could not be made again after a failed commit, the rows kept in
    /// memory are dropped (they may be ahead of the file).
    func writingTogether(_ body: () -> Void) {
        if !self.db.writingTogether(body) { self.cache.removeAll() }
    }

    // MARK: Writes gathered across jobs

    /// Called when a write opened a gathering transaction (`gatherFromNextWrite`): its owner must call
    /// `commitGathered` later.
    var gatheringOpened: (() -> Void)? {
        get { self.db.gatheringOpened }
        set { self.db.gatheringOpened = newValue }
    }

    /// Opens a gathering transaction now, unless one (or another transaction) is open; `gatheringOpened` runs.
    func openGathering() {
        if self.db.beginGathering() { self.db.gatheringOpened?() }
    }

    /// Whether writes wait in an open gathering transaction.
    var isGathering: Bool { self.db.isGathering }

    /// Commits the gathered writes (`Database.commitGathered`). Returns the requests whose INSERT could not be made
    /// even on its own, with the error; when any write failed again the rows kept in memory are dropped.
    func commitGathered() -> [String: any Error] {
        let failed = self.db.commitGathered()
        if failed.isEmpty { return [:] }
        self.cache.removeAll()
        var unsaved: [String: any Error] = [:]
        for write in failed where write.sql.hasPrefix("INSERT INTO requests ") {
            if case .text(let id)? = write.parameters.first { unsaved[id] = write.error }
        }
        return unsaved
    }

    // MARK: Cached reads

    func request(id: String) throws -> RequestRecord? {
        try self.dropCacheIfChangedElsewhere()
        if let cached = self.cache.request(id: id) { return cached }
        let record = try self.selectRequest(id: id)
        if let record { self.cache.keep(record) }
        return record
    }

    func user(id: Int64) throws -> User? {
        try self.dropCacheIfChangedElsewhere()
        if let cached = self.cache.user(id: id) { return cached }
        let user = try self.selectUser(id: id)
        if let user { self.cache.keep(user) }
        return user
    }

    func space(id: Int64) throws -> Space? {
        try self.dropCacheIfChangedElsewhere()
        if let cached = self.cache.space(id: id) { return cached }
        let space = try self.selectSpace(id: id)
        if let space { self.cache.keep(space) }
        return space
    }

    func rowWritten(_ row: WrittenRow) {
        switch row {
        case .user(let id): self.cache.forgetUser(id: id)
        case .space(let id): self.cache.forgetSpace(id: id)
        case .requestInserted(let record): self.cache.keep(record)
        case .requestUpdated(let record, let changed):
            // An update writes the mutable columns only: the rest is taken from the kept row, when there is one.
            if changed == 1, var kept = self.cache.request(id: record.id) {
                kept.status = record.status
                kept.result = record.result
                kept.error = record.error
                kept.deliveries = record.deliveries
                kept.workerID = record.workerID
                kept.progress = record.progress
                kept.progressMessage = record.progressMessage
                kept.queueOrder = record.queueOrder
                kept.updatedAt = record.updatedAt
                kept.startedAt = record.startedAt
                kept.finishedAt = record.finishedAt
                self.cache.keep(kept)
            } else {
                self.cache.forgetRequest(id: record.id)
            }
        }
    }

    /// Within one job of the core's queue the file is looked at once (`beginTurn` / `endTurn`): the job's reads
    /// then see the file as it was when the job started, as they would inside one read transaction. Each look
    /// is a read transaction of its own (two `fcntl` lock calls).
    private var inTurn = false
    private var checkedThisTurn = false

    /// The gathering transaction (`Database.gatheringsOpened`) in which the file was last looked at.
    private var checkedGathering = 0

    /// A job of the core's queue starts: its first write outside a transaction opens a gathering one, if none is
    /// open (`gatheringOpened`).
    func beginTurn() {
        self.inTurn = true
        self.checkedThisTurn = false
        self.db.gatherFromNextWrite = true
    }

    /// The job ended: reads outside jobs look at the file each time again.
    func endTurn() {
        self.inTurn = false
        self.checkedThisTurn = false
        self.db.gatherFromNextWrite = false
    }

    /// Empties the cache when another connection committed since we last looked (a `sqlite3` shell, say).
    private func dropCacheIfChangedElsewhere() throws {
        if self.db.isGathering && self.db.inTransaction {
            // Our transaction holds the write lock: nobody else commits until it ends, so one look after it
            // opened covers every read of every job it spans.
            if self.checkedGathering == self.db.gatheringsOpened { return }
            self.checkedGathering = self.db.gatheringsOpened
        }
        if self.inTurn {
            if self.checkedThisTurn { return }
            self.checkedThisTurn = true
        }
        let version = try self.db.dataVersion()
        if version != self.seenDataVersion {
            self.cache.removeAll()
            self.seenDataVersion = version
        }
    }
}
