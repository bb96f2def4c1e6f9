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
            try self.db.queryFirst("SELECT \(StoreRows.requestColumns) FROM requests WHERE id = ?", id,
                                   map: StoreRows.requestFromRow)
        }
    }
}
