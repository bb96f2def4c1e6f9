/// Rows the SQLite store wrote or read lately, kept so that the hot reads (a request's status, the submitting
/// user, its space: several per submit) skip SQL. The store is the file's only writer in this process; writes by
/// another connection (the `sqlite3` shell) show in `PRAGMA data_version` and empty the cache.
///
/// Requests live in two generations bounded by their text's size: when the current one is full it becomes the
/// previous one and the oldest rows go. Users and spaces are few and small; past a count they are dropped too.
struct RecordCache {
    /// Bytes of request text (payload, result, error) one generation holds.
    static let generationBytes = 2 * 1024 * 1024
    /// A request bigger than this is not kept.
    static let largestRequestBytes = 256 * 1024
    /// Users or spaces kept before the map is emptied.
    static let maxEntries = 10_000

    private var requests: [String: RequestRecord] = [:]
    private var requestBytes = 0
    private var olderRequests: [String: RequestRecord] = [:]
    private var users: [Int64: User] = [:]
    private var spaces: [Int64: Space] = [:]

    func request(id: String) -> RequestRecord? {
        self.requests[id] ?? self.olderRequests[id]
    }

    func user(id: Int64) -> User? { self.users[id] }

    func space(id: Int64) -> Space? { self.spaces[id] }

    /// Keeps `record` as the database now holds it.
    mutating func keep(_ record: RequestRecord) {
        self.olderRequests[record.id] = nil
        let bytes = record.payload.utf8.count + (record.result?.utf8.count ?? 0) + (record.error?.utf8.count ?? 0) + 256
        guard bytes <= Self.largestRequestBytes else {
            self.forgetRequest(id: record.id)
            return
        }
        if self.requestBytes + bytes > Self.generationBytes {
            self.olderRequests = self.requests
            self.requests = [:]
            self.requestBytes = 0
        }
        // A rewrite counts its bytes again: the bound errs on the small side.
        self.requests[record.id] = record
        self.requestBytes += bytes
    }

    mutating func forgetRequest(id: String) {
        self.requests[id] = nil
        self.olderRequests[id] = nil
    }

    mutating func keep(_ user: User) {
        if self.users.count >= Self.maxEntries { self.users = [:] }
        self.users[user.id] = user
    }

    mutating func forgetUser(id: Int64) { self.users[id] = nil }

    mutating func keep(_ space: Space) {
        if self.spaces.count >= Self.maxEntries { self.spaces = [:] }
        self.spaces[space.id] = space
    }

    mutating func forgetSpace(id: Int64) { self.spaces[id] = nil }

    mutating func removeAll() {
        self = RecordCache()
    }
}
