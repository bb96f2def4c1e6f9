import CSQLite
import Foundation

/// An error from SQLite: the result code, its message and the OS error behind an I/O failure.
struct SQLiteError: StoreFailure, Sendable {
    let code: Int32
    let message: String
    /// `errno` of the failed system call (`sqlite3_system_errno`), 0 when none.
    var systemErrno: Int32 = 0

    var kind: StoreFailureKind {
        switch self.code & 0xff {
        case SQLITE_CONSTRAINT: return .constraintViolation
        case SQLITE_FULL: return .storageFull
        // A write that hit ENOSPC or the file-size limit in a path SQLite reports as a plain I/O error.
        case SQLITE_IOERR where self.systemErrno == ENOSPC || self.systemErrno == EFBIG: return .storageFull
        default: return .failed
        }
    }

    var description: String {
        "SQLite error \(self.code): \(self.message)" + (self.systemErrno != 0 ? " (errno \(self.systemErrno))" : "")
    }
}

/// One SQLite connection with a cache of prepared statements.
///
/// Not thread-safe and not `Sendable`: one owner uses it from one thread at a time (the app's store queue).
final class Database: SQLDatabase {
    private var handle: OpaquePointer?
    private var statements: [String: Statement] = [:]
    /// The same statements by where their text lies in memory: the queries are string literals, whose bytes stay
    /// put, so a lookup compares one address instead of hashing a few hundred bytes of SQL. A hit is confirmed by
    /// comparing the text (immediate for the same literal).
    private var statementsByAddress: [UnsafeRawPointer: Statement] = [:]
    private var dataVersionStatement: Statement?
    /// Path of the database file.
    let path: String
    var dialect: SQLDialect { .sqlite }

    /// Opens (creating if needed) the database at `path`, in WAL mode with a busy timeout.
    /// `exclusive`: this connection is the file's only user while it is open (`locking_mode=EXCLUSIVE`), so
    /// SQLite takes its file locks once instead of at every transaction, and keeps the WAL index in memory.
    init(path: String, busyTimeoutMillis: Int32 = 5000, exclusive: Bool = false) throws(SQLiteError) {
        self.path = path
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open \(path)"
            sqlite3_close(db)
            throw SQLiteError(code: rc, message: message)
        }
        self.handle = db
        // Extended codes tell a failed write (SQLITE_IOERR_WRITE) from other I/O errors; `kind` masks them.
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, busyTimeoutMillis)
        if exclusive {
            // Before the first access in WAL mode: the WAL index then never goes to shared memory.
            try self.execute("PRAGMA locking_mode=EXCLUSIVE")
        }
        if path != ":memory:" {
            try self.execute("PRAGMA journal_mode=WAL")
        }
        // NORMAL in WAL mode survives a killed process: a commit is in the WAL file (the kernel's page cache)
        // before the answer goes out, and SIGKILL cannot undo that. Only a power loss or a kernel crash may lose
        // the last commits (FULL would fsync the WAL at every commit to cover those as well).
        try self.execute("PRAGMA synchronous=NORMAL")
        try self.execute("PRAGMA foreign_keys=ON")
    }

    deinit {
        self.close()
    }

    /// Finalizes statements and closes the connection (a checkpoint folds the WAL back).
    func close() {
        for statement in self.statements.values { statement.finalize() }
        self.statements.removeAll()
        self.statementsByAddress.removeAll()
        for statement in self.controlStatements.values { statement.finalize() }
        self.controlStatements.removeAll()
        self.dataVersionStatement = nil
        if let handle = self.handle {
            sqlite3_close_v2(handle)
            self.handle = nil
        }
    }

    /// Runs one or more statements without parameters or results.
    func execute(_ sql: String) throws(SQLiteError) {
        guard self.handle != nil else { throw SQLiteError(code: SQLITE_MISUSE, message: "database is closed") }
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(self.handle, sql, nil, nil, &errorMessage)
        if rc != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? "error"
            sqlite3_free(errorMessage)
            throw SQLiteError(code: rc, message: message, systemErrno: sqlite3_system_errno(self.handle))
        }
    }

    /// Statements run on tables since the connection opened (`PRAGMA`s aside): what a test counts to see that
    /// the hot paths stay off the database.
    private(set) var tableStatements = 0

    /// A prepared statement for `sql`, reset and reused across calls.
    func prepare(_ sql: String) throws(SQLiteError) -> Statement {
        let address = sql.utf8.withContiguousStorageIfAvailable { $0.baseAddress.map(UnsafeRawPointer.init) } ?? nil
        if let address, let cached = self.statementsByAddress[address], cached.sql == sql {
            if cached.onTable { self.tableStatements += 1 }
            cached.reset()
            return cached
        }
        if !sql.hasPrefix("PRAGMA") { self.tableStatements += 1 }
        if let cached = self.statements[sql] {
            // Text built at run time lands at ever new addresses: the index stays bounded by starting over.
            if self.statementsByAddress.count > 2 * self.statements.count + 64 { self.statementsByAddress.removeAll() }
            if let address { self.statementsByAddress[address] = cached }
            cached.reset()
            return cached
        }
        guard self.handle != nil else { throw SQLiteError(code: SQLITE_MISUSE, message: "database is closed") }
        var raw: OpaquePointer?
        let rc = sqlite3_prepare_v3(self.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil)
        guard rc == SQLITE_OK, let raw else { throw self.error(rc) }
        let statement = Statement(raw, database: self, sql: sql)
        self.statements[sql] = statement
        if let address { self.statementsByAddress[address] = statement }
        return statement
    }

    /// Runs `sql` with `parameters` for its effect; returns the number of rows changed.
    func run(_ sql: String, parameters: [SQLValue]) throws(SQLiteError) -> Int {
        if self.gatherFromNextWrite, self.gathered == nil, self.beginGathering() { self.gatheringOpened?() }
        let statement = try self.prepare(sql)
        try statement.bind(parameters)
        while try statement.step() {}
        if self.gathered != nil && sqlite3_get_autocommit(self.handle) == 0 {
            self.gathered?.append((sql, parameters))
        }
        return Int(sqlite3_changes(self.handle))
    }

    // MARK: Writes gathered into one commit

    /// The writes made inside the gathering transaction, to make again one by one if it does not commit.
    private var gathered: [(sql: String, parameters: [SQLValue])]?
    private var controlStatements: [String: Statement] = [:]
    /// While set, the first write made outside a transaction opens a gathering transaction (`beginGathering`) and
    /// `gatheringOpened` runs: its owner commits it later (`commitGathered`), with the writes of other jobs.
    var gatherFromNextWrite = false
    var gatheringOpened: (() -> Void)?

    /// A write of the gathering transaction that failed again when made on its own.
    struct FailedWrite {
        let sql: String
        let parameters: [SQLValue]
        let error: any Error
    }

    /// Whether a transaction is open on this connection.
    var inTransaction: Bool { sqlite3_get_autocommit(self.handle) == 0 }

    /// Gathering transactions opened so far (tells one from the next).
    private(set) var gatheringsOpened = 0

    /// Whether a gathering transaction is open.
    var isGathering: Bool { self.gathered != nil }

    /// Opens a transaction whose writes commit together (`commitGathered`): one WAL commit (its pages, locks and
    /// `pwrite`s) instead of one per statement. The writer goes on as if each write committed by itself: a
    /// statement that fails throws to its caller as before. False when one is open already or inside another
    /// transaction (the writes then just run).
    @discardableResult
    func beginGathering() -> Bool {
        guard self.gathered == nil, sqlite3_get_autocommit(self.handle) != 0, self.control("BEGIN IMMEDIATE") else {
            return false
        }
        self.gathered = []
        self.gatheringsOpened += 1
        return true
    }

    /// Commits the gathering transaction. When it cannot commit (or a failure rolled it back), the writes that
    /// had succeeded in it are made again, each on its own; returns those that failed again (the caller's copies
    /// of rows may then be ahead of the file).
    func commitGathered() -> [FailedWrite] {
        guard let writes = self.gathered else { return [] }
        self.gathered = nil
        if sqlite3_get_autocommit(self.handle) == 0 {
            if self.control("COMMIT") { return [] }
            _ = self.control("ROLLBACK")
        }
        let gathering = self.gatherFromNextWrite
        self.gatherFromNextWrite = false
        defer { self.gatherFromNextWrite = gathering }
        var failed: [FailedWrite] = []
        for write in writes {
            do {
                _ = try self.run(write.sql, parameters: write.parameters)
            } catch {
                failed.append(FailedWrite(sql: write.sql, parameters: write.parameters, error: error))
            }
        }
        return failed
    }

    /// Runs `body` with its writes gathered into one commit (`beginGathering`, `commitGathered`). Returns false
    /// when a write failed again after a failed commit. Inside a transaction, `body` just runs.
    @discardableResult
    func writingTogether(_ body: () -> Void) -> Bool {
        guard self.beginGathering() else {
            body()
            return true
        }
        body()
        return self.commitGathered().isEmpty
    }

    /// BEGIN, COMMIT or ROLLBACK from a kept statement (sqlite3_exec parses the text each time); not counted in
    /// `tableStatements`.
    private func control(_ sql: String) -> Bool {
        let statement: Statement
        if let kept = self.controlStatements[sql] {
            statement = kept
        } else {
            var raw: OpaquePointer?
            guard self.handle != nil, sqlite3_prepare_v3(self.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil) == SQLITE_OK,
                  let raw else { return false }
            statement = Statement(raw, database: self, sql: sql)
            self.controlStatements[sql] = statement
        }
        defer { statement.reset() }
        return (try? statement.step()) != nil
    }

    func insertReturningID(_ sql: String, parameters: [SQLValue]) throws(SQLiteError) -> Int64 {
        try self.run(sql, parameters: parameters)
        return self.lastInsertRowID
    }

    func query<T>(_ sql: String, parameters: [SQLValue], map: (SQLiteRow) throws -> T) throws -> [T] {
        let statement = try self.prepare(sql)
        try statement.bind(parameters)
        var rows: [T] = []
        while try statement.step() { rows.append(try map(SQLiteRow(statement: statement))) }
        statement.reset()
        return rows
    }

    func queryFirst<T>(_ sql: String, parameters: [SQLValue], map: (SQLiteRow) throws -> T) throws -> T? {
        let statement = try self.prepare(sql)
        try statement.bind(parameters)
        defer { statement.reset() }
        return try statement.step() ? try map(SQLiteRow(statement: statement)) : nil
    }

    /// `PRAGMA data_version`: changes when another connection commits to the file (never for our own commits).
    func dataVersion() throws(SQLiteError) -> Int64 {
        // Asked before every cached read: kept at hand rather than looked up by its text.
        let statement: Statement
        if let kept = self.dataVersionStatement {
            statement = kept
        } else {
            statement = try self.prepare("PRAGMA data_version")
            self.dataVersionStatement = statement
        }
        defer { statement.reset() }
        return try statement.step() ? sqlite3_column_int64(statement.pointer, 0) : 0
    }

    /// The rowid of the last insert.
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(self.handle) }

    /// Runs `body` in a transaction (BEGIN IMMEDIATE: the write lock is taken up front), committing when it
    /// returns and rolling back when it throws.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        guard let before = self.gathered?.count, sqlite3_get_autocommit(self.handle) == 0 else {
            return try self.inTransaction(begin: "BEGIN IMMEDIATE", body)
        }
        // Inside a gathering transaction: a savepoint, so that a throw undoes `body`'s writes only.
        do {
            return try self.inTransaction(begin: "SAVEPOINT nested", commit: "RELEASE nested",
                                          rollback: "ROLLBACK TO nested; RELEASE nested", body)
        } catch {
            if let writes = self.gathered, writes.count > before { self.gathered = Array(writes.prefix(before)) }
            throw error
        }
    }

    /// `PRAGMA user_version`: the schema version of databases made before the `schema_version` table.
    var userVersion: Int {
        Int((try? self.scalar("PRAGMA user_version")) ?? 0)
    }

    func error(_ rc: Int32) -> SQLiteError {
        var systemErrno = sqlite3_system_errno(self.handle)
        if rc == SQLITE_IOERR | (3 << 8) && systemErrno == 0 {  // SQLITE_IOERR_WRITE (a macro Swift does not import)
            // SQLite reports a write cut short by the file-size limit (EFBIG) as a plain write error and does
            // not always keep errno: look at the limit and the free space instead.
            systemErrno = StorageProbe.exhaustion(databasePath: self.path)
        }
        return SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(self.handle)), systemErrno: systemErrno)
    }
}

/// A prepared statement owned by its `Database`.
final class Statement {
    private var raw: OpaquePointer?
    private unowned let database: Database
    /// The text it was prepared from.
    let sql: String
    /// Whether it runs on a table (not a PRAGMA), for `Database.tableStatements`.
    let onTable: Bool

    init(_ raw: OpaquePointer, database: Database, sql: String) {
        self.raw = raw
        self.database = database
        self.sql = sql
        self.onTable = !sql.hasPrefix("PRAGMA")
    }

    /// Binds `parameters` to `?1...?n` (clearing earlier bindings).
    func bind(_ parameters: [SQLValue]) throws(SQLiteError) {
        sqlite3_clear_bindings(self.raw)
        for (offset, parameter) in parameters.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch parameter {
            case .null: rc = sqlite3_bind_null(self.raw, index)
            case .int(let value): rc = sqlite3_bind_int64(self.raw, index, value)
            case .double(let value): rc = sqlite3_bind_double(self.raw, index, value)
            case .text(let value): rc = sqlite3_bind_text(self.raw, index, value, -1, csqlite_transient())
            case .blob(let value):
                rc = value.withUnsafeBytes { sqlite3_bind_blob(self.raw, index, $0.baseAddress, Int32($0.count), csqlite_transient()) }
            }
            guard rc == SQLITE_OK else { throw self.database.error(rc) }
        }
    }

    /// Advances; true when a row is available.
    func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(self.raw)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE:
            sqlite3_reset(self.raw)
            return false
        default:
            let error = self.database.error(rc)
            sqlite3_reset(self.raw)
            throw error
        }
    }

    func reset() {
        sqlite3_reset(self.raw)
    }

    func finalize() {
        sqlite3_finalize(self.raw)
        self.raw = nil
    }

    fileprivate var pointer: OpaquePointer? { self.raw }
}

/// The current row of a statement, read by column index.
struct SQLiteRow: SQLRow {
    fileprivate let statement: Statement

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(self.statement.pointer, column) == SQLITE_NULL }
    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(self.statement.pointer, column) }
    func double(_ column: Int32) -> Double { sqlite3_column_double(self.statement.pointer, column) }

    func text(_ column: Int32) -> String {
        guard let pointer = sqlite3_column_text(self.statement.pointer, column) else { return "" }
        let count = Int(sqlite3_column_bytes(self.statement.pointer, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }
}
