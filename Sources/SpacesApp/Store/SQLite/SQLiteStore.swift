/// The default store: one SQLite file in the data folder, used by one owner (the core queue).
final class SQLiteStore: SQLBackedStore {
    let db: Database
    var backendName: String { "sqlite" }

    /// Opens (creating if needed) the database file and brings the schema up to date. One SQLite file belongs
    /// to one node (several nodes share PostgreSQL instead). The file stays readable by other processes (no
    /// exclusive locking mode), so `sqlite3 .backup` can copy it while we run.
    init(path: String) throws {
        self.db = try Database(path: path)
        try Migrations.migrate(self.db)
    }

    func close() {
        self.db.close()
    }
}
