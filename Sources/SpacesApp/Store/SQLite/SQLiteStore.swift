/// The default store: one SQLite file in the data folder, used by one owner (the core queue).
final class SQLiteStore: SQLBackedStore {
    let db: Database
    var backendName: String { "sqlite" }

    /// Opens (creating if needed) the database file and brings the schema up to date. The file is ours alone
    /// while we run (a second `spaces` on the same data folder waits, then fails to start): one SQLite file
    /// belongs to one node; several nodes share PostgreSQL instead.
    init(path: String) throws {
        self.db = try Database(path: path, exclusive: true)
        try Migrations.migrate(self.db)
    }

    func close() {
        self.db.close()
    }
}
