/// The schema, as an ordered list of migrations; `PRAGMA user_version` records how many ran.
enum Migrations {
    static let all: [String] = [
        // 1: accounts, spaces, requests.
        """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            password_hash TEXT NOT NULL,
            is_admin INTEGER NOT NULL DEFAULT 0,
            daily_quota INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL
        );
        CREATE TABLE spaces (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            card_type TEXT NOT NULL DEFAULT 'standard',
            cover_image TEXT,
            enable_prompt INTEGER NOT NULL DEFAULT 0,
            enable_audio INTEGER NOT NULL DEFAULT 0,
            enable_video INTEGER NOT NULL DEFAULT 0,
            enable_file_upload INTEGER NOT NULL DEFAULT 0,
            rate_limit_seconds INTEGER NOT NULL DEFAULT 0,
            max_workers INTEGER NOT NULL DEFAULT 1,
            max_concurrency INTEGER NOT NULL DEFAULT 1,
            timeout_seconds INTEGER NOT NULL DEFAULT 120,
            worker_token TEXT,
            max_upload_bytes INTEGER NOT NULL DEFAULT 52428800,
            created_at REAL NOT NULL
        );
        CREATE UNIQUE INDEX spaces_websockets_name ON spaces(name) WHERE card_type = 'websockets';
        CREATE TABLE requests (
            id TEXT PRIMARY KEY,
            space_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            username TEXT NOT NULL,
            payload TEXT NOT NULL,
            status TEXT NOT NULL,
            result TEXT,
            error TEXT,
            token TEXT NOT NULL,
            deliveries INTEGER NOT NULL DEFAULT 0,
            worker_id TEXT,
            progress REAL,
            progress_message TEXT,
            queue_order INTEGER NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            started_at REAL,
            finished_at REAL,
            base_url TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX requests_queue ON requests(space_id, status, queue_order);
        CREATE INDEX requests_user ON requests(user_id, created_at);
        CREATE INDEX requests_active ON requests(status) WHERE status IN ('queued', 'processing');
        """,
    ]

    /// Applies the migrations `db` has not run yet, each in its own transaction.
    static func migrate(_ db: Database) throws {
        let current = db.userVersion
        guard current < self.all.count else { return }
        for version in current..<self.all.count {
            try db.transaction {
                try db.execute(self.all[version])
                try db.setUserVersion(version + 1)
            }
        }
    }
}
