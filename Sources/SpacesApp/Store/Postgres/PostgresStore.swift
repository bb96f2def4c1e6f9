/// The store on a PostgreSQL server (`--database postgres://user:password@host:port/db`), for sites whose
/// nodes share one database. Calls go through a small pool of connections with prepared statements.
final class PostgresStore: SQLBackedStore {
    let db: PostgresPool
    var backendName: String { "postgres" }

    /// Connects and brings the schema up to date (several nodes may do so at once).
    init(url: String, poolSize: Int = 4) throws {
        self.db = PostgresPool(url: url, size: poolSize)
        try self.db.withConnection { try Migrations.migrate($0) }
    }

    func close() {
        self.db.close()
    }
}
