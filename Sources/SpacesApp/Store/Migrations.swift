/// The schema both backends share, as an ordered list of migrations; the `schema_version` table records how
/// many ran. Append new migrations, never edit one that shipped.
enum Migrations {
    static let all: [[SchemaStep]] = [
        // 1: accounts, spaces, requests.
        [
            .createTable("users", [
                Column("id", .identity),
                Column("username", .text, "NOT NULL UNIQUE"),
                Column("password_hash", .text, "NOT NULL"),
                Column("is_admin", .integer, "NOT NULL DEFAULT 0"),
                Column("daily_quota", .integer, "NOT NULL DEFAULT 0"),
                Column("created_at", .real, "NOT NULL"),
            ]),
            .createTable("spaces", [
                Column("id", .identity),
                Column("name", .text, "NOT NULL"),
                Column("description", .text, "NOT NULL DEFAULT ''"),
                Column("card_type", .text, "NOT NULL DEFAULT 'standard'"),
                Column("cover_image", .text),
                Column("enable_prompt", .integer, "NOT NULL DEFAULT 0"),
                Column("enable_audio", .integer, "NOT NULL DEFAULT 0"),
                Column("enable_video", .integer, "NOT NULL DEFAULT 0"),
                Column("enable_file_upload", .integer, "NOT NULL DEFAULT 0"),
                Column("rate_limit_seconds", .integer, "NOT NULL DEFAULT 0"),
                Column("max_workers", .integer, "NOT NULL DEFAULT 1"),
                Column("max_concurrency", .integer, "NOT NULL DEFAULT 1"),
                Column("timeout_seconds", .integer, "NOT NULL DEFAULT 120"),
                Column("worker_token", .text),
                Column("max_upload_bytes", .integer, "NOT NULL DEFAULT 52428800"),
                Column("created_at", .real, "NOT NULL"),
            ]),
            .portable("CREATE UNIQUE INDEX spaces_websockets_name ON spaces(name) WHERE card_type = 'websockets'"),
            .createTable("requests", [
                Column("id", .text, "PRIMARY KEY"),
                Column("space_id", .integer, "NOT NULL"),
                Column("user_id", .integer, "NOT NULL"),
                Column("username", .text, "NOT NULL"),
                Column("payload", .text, "NOT NULL"),
                Column("status", .text, "NOT NULL"),
                Column("result", .text),
                Column("error", .text),
                Column("token", .text, "NOT NULL"),
                Column("deliveries", .integer, "NOT NULL DEFAULT 0"),
                Column("worker_id", .text),
                Column("progress", .real),
                Column("progress_message", .text),
                Column("queue_order", .integer, "NOT NULL"),
                Column("created_at", .real, "NOT NULL"),
                Column("updated_at", .real, "NOT NULL"),
                Column("started_at", .real),
                Column("finished_at", .real),
                Column("base_url", .text, "NOT NULL DEFAULT ''"),
            ]),
            .portable("CREATE INDEX requests_queue ON requests(space_id, status, queue_order)"),
            .portable("CREATE INDEX requests_user ON requests(user_id, created_at)"),
            .portable("CREATE INDEX requests_active ON requests(status) WHERE status IN ('queued', 'processing')"),
        ],
        // 2: the cluster queue (PostgreSQL): nodes with leases, worker registrations of every node, the node
        // holding each processing request, and one queue order for every node.
        [
            .createTable("nodes", [
                Column("id", .text, "PRIMARY KEY"),
                Column("address", .text, "NOT NULL DEFAULT ''"),
                Column("started_at", .real, "NOT NULL"),
                Column("lease_expires", .real, "NOT NULL"),
            ]),
            .createTable("worker_registrations", [
                Column("worker_id", .text, "NOT NULL"),
                Column("space_id", .integer, "NOT NULL"),
                Column("node_id", .text, "NOT NULL"),
                Column("concurrency", .integer, "NOT NULL"),
                Column("address", .text, "NOT NULL DEFAULT ''"),
                Column("registered_at", .real, "NOT NULL"),
            ]),
            .portable("CREATE UNIQUE INDEX worker_registrations_key ON worker_registrations(worker_id, space_id)"),
            .portable("CREATE INDEX worker_registrations_space ON worker_registrations(space_id)"),
            .portable("ALTER TABLE requests ADD COLUMN node_id TEXT"),
            .postgresOnly("CREATE SEQUENCE requests_queue_order"),
            .postgresOnly("SELECT setval('requests_queue_order', (SELECT COALESCE(MAX(queue_order), 0) + 1 FROM requests), false)"),
        ],
    ]

    /// Applies the migrations `db` has not run yet, each in its own transaction. On PostgreSQL an advisory lock
    /// held by that transaction lets several nodes start at once: one migrates, the others then find it done.
    static func migrate<DB: SQLDatabase>(_ db: DB) throws {
        var version = 0
        repeat {
            version = try db.transaction {
                if db.dialect == .postgres { try db.execute("SELECT pg_advisory_xact_lock(\(Self.lockKey))") }
                try db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                let current = try self.version(db)
                guard current < self.all.count else { return current }
                for step in self.all[current] {
                    if let sql = step.sql(db.dialect) { try db.execute(sql) }
                }
                try db.run("DELETE FROM schema_version")
                try db.run("INSERT INTO schema_version (version) VALUES (?)", current + 1)
                return current + 1
            }
        } while version < self.all.count
    }

    /// Migrations `db` has run.
    static func version<DB: SQLDatabase>(_ db: DB) throws -> Int {
        if let version = try db.queryFirst("SELECT version FROM schema_version", map: { $0.int(0) }) { return version }
        // SQLite databases made before the table counted their migrations in PRAGMA user_version.
        if let sqlite = db as? Database { return sqlite.userVersion }
        return 0
    }

    /// The advisory lock key that serialises migrations across nodes ("spaces" in ASCII).
    static let lockKey: Int64 = 0x7370_6163_6573
}
