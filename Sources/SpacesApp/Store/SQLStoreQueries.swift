/// A store kept in a SQL database through a `SQLDatabase`: the queries of `SpacesStore` written once, with `?`
/// placeholders, for SQLite and PostgreSQL alike. A backend may replace any of them with its own.
protocol SQLBackedStore: SpacesStore {
    associatedtype DB: SQLDatabase
    var db: DB { get }
    /// Told after a row of users, spaces or requests was written, for a backend that keeps rows in memory.
    func rowWritten(_ row: WrittenRow)
}

/// A row the shared queries wrote.
enum WrittenRow {
    case user(id: Int64)
    case space(id: Int64)
    case requestInserted(RequestRecord)
    /// The mutable columns of `record` were written; `changed`: rows changed (0: no request has that id).
    case requestUpdated(RequestRecord, changed: Int)
}

extension SQLBackedStore {
    func rowWritten(_ row: WrittenRow) {}

    func transaction<T>(_ body: () throws -> T) throws -> T {
        try self.db.transaction(body)
    }

    // MARK: Users

    func createUser(username: String, passwordHash: String, isAdmin: Bool, now: Double) throws -> User {
        let id = try self.db.insertReturningID(
            "INSERT INTO users (username, password_hash, is_admin, created_at) VALUES (?, ?, ?, ?)",
            username, passwordHash, isAdmin, now)
        return User(id: id, username: username, passwordHash: passwordHash, isAdmin: isAdmin,
                    dailyQuota: 0, createdAt: now)
    }

    func user(id: Int64) throws -> User? {
        try self.selectUser(id: id)
    }

    /// `user(id:)` read from the database (a backend that caches reads calls it on a miss).
    func selectUser(id: Int64) throws -> User? {
        try self.db.queryFirst("SELECT \(StoreRows.userColumns) FROM users WHERE id = ?", id, map: StoreRows.userFromRow)
    }

    func user(named username: String) throws -> User? {
        try self.db.queryFirst("SELECT \(StoreRows.userColumns) FROM users WHERE username = ?", username, map: StoreRows.userFromRow)
    }

    func users() throws -> [User] {
        try self.db.query("SELECT \(StoreRows.userColumns) FROM users ORDER BY id", map: StoreRows.userFromRow)
    }

    func firstAdmin() throws -> User? {
        try self.db.queryFirst("SELECT \(StoreRows.userColumns) FROM users WHERE is_admin = 1 ORDER BY id LIMIT 1", map: StoreRows.userFromRow)
    }

    func setPasswordHash(userID: Int64, _ hash: String) throws {
        try self.db.run("UPDATE users SET password_hash = ? WHERE id = ?", hash, userID)
        self.rowWritten(.user(id: userID))
    }

    func setDailyQuota(userID: Int64, _ quota: Int) throws {
        try self.db.run("UPDATE users SET daily_quota = ? WHERE id = ?", quota, userID)
        self.rowWritten(.user(id: userID))
    }

    func setAdmin(userID: Int64, _ isAdmin: Bool) throws {
        try self.db.run("UPDATE users SET is_admin = ? WHERE id = ?", isAdmin, userID)
        self.rowWritten(.user(id: userID))
    }

    // MARK: Spaces

    func createSpace(_ space: Space) throws -> Space {
        let id = try self.db.insertReturningID("""
            INSERT INTO spaces (name, description, card_type, cover_image, enable_prompt, enable_audio, enable_video,
                enable_file_upload, rate_limit_seconds, max_workers, max_concurrency, timeout_seconds, worker_token,
                max_upload_bytes, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, space.name, space.description, space.cardType.rawValue, space.coverImage, space.enablePrompt,
            space.enableAudio, space.enableVideo, space.enableFileUpload, space.rateLimitSeconds, space.maxWorkers,
            space.maxConcurrency, space.timeoutSeconds, space.workerToken, space.maxUploadBytes, space.createdAt)
        var created = space
        created.id = id
        return created
    }

    func updateSpace(_ space: Space) throws {
        try self.db.run("""
            UPDATE spaces SET name = ?, description = ?, card_type = ?, cover_image = ?, enable_prompt = ?,
                enable_audio = ?, enable_video = ?, enable_file_upload = ?, rate_limit_seconds = ?, max_workers = ?,
                max_concurrency = ?, timeout_seconds = ?, worker_token = ?, max_upload_bytes = ?
            WHERE id = ?
            """, space.name, space.description, space.cardType.rawValue, space.coverImage, space.enablePrompt,
            space.enableAudio, space.enableVideo, space.enableFileUpload, space.rateLimitSeconds, space.maxWorkers,
            space.maxConcurrency, space.timeoutSeconds, space.workerToken, space.maxUploadBytes, space.id)
        self.rowWritten(.space(id: space.id))
    }

    func deleteSpace(id: Int64) throws {
        try self.db.transaction {
            // Registrations of every node (the cluster's table; empty on a single node).
            try self.db.run("DELETE FROM worker_registrations WHERE space_id = ?", id)
            try self.db.run("DELETE FROM spaces WHERE id = ?", id)
        }
        self.rowWritten(.space(id: id))
    }

    func space(id: Int64) throws -> Space? {
        try self.selectSpace(id: id)
    }

    /// `space(id:)` read from the database.
    func selectSpace(id: Int64) throws -> Space? {
        try self.db.queryFirst("SELECT \(StoreRows.spaceColumns) FROM spaces WHERE id = ?", id, map: StoreRows.spaceFromRow)
    }

    func websocketSpaces(named name: String) throws -> [Space] {
        try self.db.query("SELECT \(StoreRows.spaceColumns) FROM spaces WHERE name = ? AND card_type = 'websockets'", name,
                          map: StoreRows.spaceFromRow)
    }

    func spaces() throws -> [Space] {
        try self.db.query("SELECT \(StoreRows.spaceColumns) FROM spaces ORDER BY id", map: StoreRows.spaceFromRow)
    }

    // MARK: Requests

    func insertRequest(_ r: RequestRecord) throws {
        try self.db.run("""
            INSERT INTO requests (id, space_id, user_id, username, payload, status, result, error, token, deliveries,
                worker_id, progress, progress_message, queue_order, created_at, updated_at, started_at, finished_at,
                base_url)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, r.id, r.spaceID, r.userID, r.username, r.payload, r.status.rawValue, r.result, r.error, r.token,
            r.deliveries, r.workerID, r.progress, r.progressMessage, r.queueOrder, r.createdAt, r.updatedAt,
            r.startedAt, r.finishedAt, r.baseURL)
        self.rowWritten(.requestInserted(r))
    }

    func updateRequest(_ r: RequestRecord) throws {
        let changed = try self.db.run("""
            UPDATE requests SET status = ?, result = ?, error = ?, deliveries = ?, worker_id = ?, progress = ?,
                progress_message = ?, queue_order = ?, updated_at = ?, started_at = ?, finished_at = ?
            WHERE id = ?
            """, r.status.rawValue, r.result, r.error, r.deliveries, r.workerID, r.progress, r.progressMessage,
            r.queueOrder, r.updatedAt, r.startedAt, r.finishedAt, r.id)
        self.rowWritten(.requestUpdated(r, changed: changed))
    }

    func request(id: String) throws -> RequestRecord? {
        try self.selectRequest(id: id)
    }

    /// `request(id:)` read from the database.
    func selectRequest(id: String) throws -> RequestRecord? {
        try self.db.queryFirst("SELECT \(StoreRows.requestColumns) FROM requests WHERE id = ?", id, map: StoreRows.requestFromRow)
    }

    func activeRequests() throws -> [RequestRecord] {
        try self.db.query("""
            SELECT \(StoreRows.requestColumns) FROM requests WHERE status IN ('queued', 'processing')
            ORDER BY space_id, queue_order
            """, map: StoreRows.requestFromRow)
    }

    func requests(userID: Int64, spaceID: Int64?, limit: Int) throws -> [RequestRecord] {
        if let spaceID {
            return try self.db.query("""
                SELECT \(StoreRows.requestColumns) FROM requests WHERE user_id = ? AND space_id = ?
                ORDER BY created_at DESC, queue_order DESC LIMIT ?
                """, userID, spaceID, limit, map: StoreRows.requestFromRow)
        }
        return try self.db.query("""
            SELECT \(StoreRows.requestColumns) FROM requests WHERE user_id = ?
            ORDER BY created_at DESC, queue_order DESC LIMIT ?
            """, userID, limit, map: StoreRows.requestFromRow)
    }

    func recentRequests(limit: Int) throws -> [RequestRecord] {
        try self.db.query("""
            SELECT \(StoreRows.requestColumns) FROM requests ORDER BY created_at DESC, queue_order DESC LIMIT ?
            """, limit, map: StoreRows.requestFromRow)
    }

    func requestCountsByUser(since: Double) throws -> [Int64: Int] {
        var counts: [Int64: Int] = [:]
        let rows = try self.db.query("SELECT user_id, COUNT(*) FROM requests WHERE created_at >= ? GROUP BY user_id", since) {
            row in (row.int64(0), row.int(1))
        }
        for (userID, count) in rows { counts[userID] = count }
        return counts
    }

    func requestCount(userID: Int64, since: Double) throws -> Int {
        Int(try self.db.scalar("SELECT COUNT(*) FROM requests WHERE user_id = ? AND created_at >= ?", userID, since))
    }

    func maxQueueOrder() throws -> Int64 {
        try self.db.scalar("SELECT COALESCE(MAX(queue_order), 0) FROM requests")
    }

    func countsByStatus() throws -> [RequestStatus: Int] {
        var counts: [RequestStatus: Int] = [:]
        let rows = try self.db.query("SELECT status, COUNT(*) FROM requests GROUP BY status") { row in
            (row.text(0), row.int(1))
        }
        for (status, count) in rows {
            if let status = RequestStatus(rawValue: status) { counts[status] = count }
        }
        return counts
    }
}

/// The column lists the queries select and how a row becomes a record, shared by both backends.
enum StoreRows {
    static let userColumns = "id, username, password_hash, is_admin, daily_quota, created_at"

    static func userFromRow<R: SQLRow>(_ row: R) -> User {
        User(id: row.int64(0), username: row.text(1), passwordHash: row.text(2), isAdmin: row.bool(3),
             dailyQuota: row.int(4), createdAt: row.double(5))
    }

    static let spaceColumns = """
        id, name, description, card_type, cover_image, enable_prompt, enable_audio, enable_video, enable_file_upload,
        rate_limit_seconds, max_workers, max_concurrency, timeout_seconds, worker_token, max_upload_bytes, created_at
        """

    static func spaceFromRow<R: SQLRow>(_ row: R) -> Space {
        Space(id: row.int64(0), name: row.text(1), description: row.text(2),
              cardType: SpaceType(rawValue: row.text(3)) ?? .standard, coverImage: row.optionalText(4),
              enablePrompt: row.bool(5), enableAudio: row.bool(6), enableVideo: row.bool(7),
              enableFileUpload: row.bool(8), rateLimitSeconds: row.int(9), maxWorkers: row.int(10),
              maxConcurrency: row.int(11), timeoutSeconds: row.int(12), workerToken: row.optionalText(13),
              maxUploadBytes: row.int(14), createdAt: row.double(15))
    }

    static let requestColumns = """
        id, space_id, user_id, username, payload, status, result, error, token, deliveries, worker_id, progress,
        progress_message, queue_order, created_at, updated_at, started_at, finished_at, base_url
        """

    static func requestFromRow<R: SQLRow>(_ row: R) -> RequestRecord {
        RequestRecord(id: row.text(0), spaceID: row.int64(1), userID: row.int64(2), username: row.text(3),
                      payload: row.text(4), status: RequestStatus(rawValue: row.text(5)) ?? .failed,
                      result: row.optionalText(6), error: row.optionalText(7), token: row.text(8),
                      deliveries: row.int(9), workerID: row.optionalText(10), progress: row.optionalDouble(11),
                      progressMessage: row.optionalText(12), queueOrder: row.int64(13), createdAt: row.double(14),
                      updatedAt: row.double(15), startedAt: row.optionalDouble(16), finishedAt: row.optionalDouble(17),
                      baseURL: row.text(18))
    }
}
