/// Everything the app keeps durably: accounts, spaces and requests (the request queue's source of truth).
///
/// Two implementations: `SQLiteStore` (the default, one file in the data folder) and `PostgresStore`
/// (`--database postgres://...`, for sites that run several nodes). Calls block: they run on the core's queue,
/// never on an event loop. A backend's errors conform to `StoreFailure`; `.unavailable` means the database
/// cannot be reached for now.
protocol SpacesStore: AnyObject {
    /// Which backend, for logs and `/metrics`.
    var backendName: String { get }

    /// Runs `body` in one transaction: the store calls it makes on this thread commit together or not at all.
    func transaction<T>(_ body: () throws -> T) throws -> T
    /// Releases the database (connections, file handles).
    func close()

    // MARK: Users

    /// Creates a user; a taken name throws a `StoreFailure` with `.constraintViolation`.
    func createUser(username: String, passwordHash: String, isAdmin: Bool, now: Double) throws -> User
    func user(id: Int64) throws -> User?
    func user(named username: String) throws -> User?
    func users() throws -> [User]
    func firstAdmin() throws -> User?
    func setPasswordHash(userID: Int64, _ hash: String) throws
    func setDailyQuota(userID: Int64, _ quota: Int) throws
    func setAdmin(userID: Int64, _ isAdmin: Bool) throws

    // MARK: Spaces

    /// Inserts `space` and returns it with its id; a duplicate websockets name violates a unique index.
    func createSpace(_ space: Space) throws -> Space
    func updateSpace(_ space: Space) throws
    func deleteSpace(id: Int64) throws
    func space(id: Int64) throws -> Space?
    /// Spaces called exactly `name` (case-sensitive) of type websockets.
    func websocketSpaces(named name: String) throws -> [Space]
    func spaces() throws -> [Space]

    // MARK: Requests (the queue)

    func insertRequest(_ r: RequestRecord) throws
    /// Writes every mutable field of `r`.
    func updateRequest(_ r: RequestRecord) throws
    func request(id: String) throws -> RequestRecord?
    /// The requests with these ids, by id (ids without a request are left out). PostgreSQL reads those it does not
    /// keep in one statement; the default asks `request(id:)` for each.
    func requests(ids: [String]) throws -> [String: RequestRecord]
    /// Requests still queued or processing, in FIFO order per space.
    func activeRequests() throws -> [RequestRecord]
    /// A user's requests, newest first (optionally for one space).
    func requests(userID: Int64, spaceID: Int64?, limit: Int) throws -> [RequestRecord]
    /// The newest requests of every user, for the admin dashboard.
    func recentRequests(limit: Int) throws -> [RequestRecord]
    /// Requests per user since `since` (seconds since 1970), for daily quotas on the admin dashboard.
    func requestCountsByUser(since: Double) throws -> [Int64: Int]
    /// How many requests `userID` made since `since` (seconds since 1970).
    func requestCount(userID: Int64, since: Double) throws -> Int
    /// The largest queue order in use (new requests go after it).
    func maxQueueOrder() throws -> Int64
    /// Request counts by status.
    func countsByStatus() throws -> [RequestStatus: Int]
}

extension SpacesStore {
    func requests(ids: [String]) throws -> [String: RequestRecord] {
        var found: [String: RequestRecord] = [:]
        for id in ids {
            if let record = try self.request(id: id) { found[id] = record }
        }
        return found
    }
}
