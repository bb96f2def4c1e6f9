import Foundation
import Synchronization

/// A few PostgreSQL connections shared by the threads that call the store.
///
/// A call borrows an idle connection (or opens one while fewer than `size` exist), waiting at most
/// `checkoutTimeout` for one to come back. A connection the server dropped (a restart, an idle timeout) is
/// thrown away: the call is tried once more on a fresh connection, and while the server is down calls fail
/// fast with a `PostgresError` of kind `.unavailable`. Inside `transaction` the thread keeps its connection,
/// so the store calls of the body share it.
final class PostgresPool: SQLDatabase, @unchecked Sendable {
    // Invariant for @unchecked Sendable: `idle`, `open`, `pinned` and `closed` are only touched under `lock`;
    // a connection is used by one thread at a time (borrowed, or pinned to its thread).
    typealias Row = PostgresRow

    let url: String
    let size: Int
    let checkoutTimeout: Double
    let connectTimeoutSeconds: Int
    /// Server settings every connection of the pool starts its session with (see `PostgresConnection.init`).
    let sessionOptions: String?
    var dialect: SQLDialect { .postgres }

    private let lock = NSCondition()
    private var idle: [PostgresConnection] = []
    /// Connections that exist (idle, borrowed or being opened).
    private var open = 0
    /// The connection a thread holds for its transaction.
    private var pinned: [pthread_t: PostgresConnection] = [:]
    private var closed = false
    /// Calls that borrowed a connection (a statement each, or a transaction's worth): what tests and profiles
    /// count to see how many round trips a piece of work took.
    let borrowings = Atomic<Int>(0)
    /// Spaces and users as last read through this pool (`PostgresStore` uses it while its node listens).
    let rowCache = PostgresRowCache()
    /// The channel nodes LISTEN on, and what is sent on it when a row of `users` or `spaces` changed.
    static let notifyChannel = "spaces_queue"
    static let rowsChangedPayload = "c rows"

    init(url: String, size: Int = 4, checkoutTimeout: Double = 5, connectTimeoutSeconds: Int = 3,
         sessionOptions: String? = nil)
    {
        self.url = url
        self.sessionOptions = sessionOptions
        self.size = max(1, size)
        self.checkoutTimeout = checkoutTimeout
        self.connectTimeoutSeconds = max(1, connectTimeoutSeconds)
    }

    /// Closes the idle connections; borrowed ones close when they come back.
    func close() {
        self.lock.lock()
        self.closed = true
        let connections = self.idle
        self.idle.removeAll()
        self.open -= connections.count
        self.lock.broadcast()
        self.lock.unlock()
        for connection in connections { connection.close() }
    }

    /// Runs `body` with a connection of the pool (the thread's own inside a transaction).
    func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        if let connection = self.pinnedConnection() { return try body(connection) }
        self.borrowings.add(1, ordering: .relaxed)
        let (connection, reused) = try self.checkOut()
        do {
            let value = try body(connection)
            self.checkIn(connection)
            return value
        } catch let error as PostgresError where error.kind == .unavailable && reused {
            // The server dropped a connection that sat idle: the others are likely stale too (a restart).
            self.discard(connection, andIdle: true)
            let (fresh, _) = try self.checkOut()
            do {
                let value = try body(fresh)
                self.checkIn(fresh)
                return value
            } catch {
                self.checkIn(fresh, after: error)
                throw error
            }
        } catch {
            self.checkIn(connection, after: error)
            throw error
        }
    }

    // MARK: SQLDatabase

    func execute(_ sql: String) throws {
        try self.withConnection { try $0.execute(sql) }
    }

    func run(_ sql: String, parameters: [SQLValue]) throws -> Int {
        try self.withConnection { connection in
            let changed = try connection.run(sql, parameters: parameters)
            if PostgresRowCache.changesCachedRows(sql) {
                // This node's copies go now; the other nodes' when the notification arrives (inside a transaction:
                // when it commits). Should it fail after the write, their copies still expire (`maxAge`): the
                // write is not reported as failed for that.
                self.rowCache.dropAll()
                try? connection.execute("NOTIFY \(Self.notifyChannel), '\(Self.rowsChangedPayload)'")
            }
            return changed
        }
    }

    func insertReturningID(_ sql: String, parameters: [SQLValue]) throws -> Int64 {
        try self.withConnection { try $0.insertReturningID(sql, parameters: parameters) }
    }

    func query<T>(_ sql: String, parameters: [SQLValue], map: (PostgresRow) throws -> T) throws -> [T] {
        try self.withConnection { try $0.query(sql, parameters: parameters, map: map) }
    }

    func queryFirst<T>(_ sql: String, parameters: [SQLValue], map: (PostgresRow) throws -> T) throws -> T? {
        try self.withConnection { try $0.queryFirst(sql, parameters: parameters, map: map) }
    }

    func transaction<T>(_ body: () throws -> T) throws -> T {
        if let connection = self.pinnedConnection() { return try connection.transaction(body) }
        return try self.withConnection { connection in
            self.pin(connection)
            defer { self.unpin() }
            return try connection.transaction(body)
        }
    }

    // MARK: Borrowing

    private func pinnedConnection() -> PostgresConnection? {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.pinned.isEmpty ? nil : self.pinned[pthread_self()]
    }

    private func pin(_ connection: PostgresConnection) {
        self.lock.lock()
        self.pinned[pthread_self()] = connection
        self.lock.unlock()
    }

    private func unpin() {
        self.lock.lock()
        self.pinned[pthread_self()] = nil
        self.lock.unlock()
    }

    /// An idle connection (reused: true) or a new one, waiting up to `checkoutTimeout` when all are busy.
    private func checkOut() throws(PostgresError) -> (PostgresConnection, reused: Bool) {
        let deadline = Date().addingTimeInterval(self.checkoutTimeout)
        self.lock.lock()
        while true {
            if self.closed {
                self.lock.unlock()
                throw .cannotConnect("the connection pool is closed")
            }
            if let connection = self.idle.popLast() {
                self.lock.unlock()
                return (connection, true)
            }
            if self.open < self.size {
                self.open += 1
                self.lock.unlock()
                do {
                    return (try PostgresConnection(url: self.url, connectTimeoutSeconds: self.connectTimeoutSeconds,
                                                   options: self.sessionOptions), false)
                } catch {
                    self.lock.lock()
                    self.open -= 1
                    self.lock.signal()
                    self.lock.unlock()
                    throw error
                }
            }
            guard self.lock.wait(until: deadline) else {
                self.lock.unlock()
                throw .cannotConnect("no database connection free within \(self.checkoutTimeout) s")
            }
        }
    }

    /// Returns a connection for reuse, or closes it when it broke (or `error` says it was lost) or was left
    /// inside a transaction.
    private func checkIn(_ connection: PostgresConnection, after error: (any Error)? = nil) {
        let lost = (error as? PostgresError)?.kind == .unavailable
        guard !lost, connection.isUsable, connection.isIdle else {
            self.discard(connection, andIdle: false)
            return
        }
        self.lock.lock()
        if self.closed {
            self.open -= 1
            self.lock.unlock()
            connection.close()
            return
        }
        self.idle.append(connection)
        self.lock.signal()
        self.lock.unlock()
    }

    private func discard(_ connection: PostgresConnection, andIdle: Bool) {
        self.lock.lock()
        let stale = andIdle ? self.idle : []
        if andIdle { self.idle.removeAll() }
        self.open -= 1 + stale.count
        self.lock.broadcast()
        self.lock.unlock()
        connection.close()
        for other in stale { other.close() }
    }
}
