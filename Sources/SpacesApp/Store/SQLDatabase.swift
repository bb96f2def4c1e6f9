/// A value to bind to a statement parameter.
enum SQLValue: Sendable, Equatable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case blob([UInt8])
}

/// Types that can be bound as statement parameters.
protocol SQLBindable {
    var sqlValue: SQLValue { get }
}

extension Int: SQLBindable { var sqlValue: SQLValue { .int(Int64(self)) } }
extension Int64: SQLBindable { var sqlValue: SQLValue { .int(self) } }
extension Double: SQLBindable { var sqlValue: SQLValue { .double(self) } }
extension String: SQLBindable { var sqlValue: SQLValue { .text(self) } }
extension Bool: SQLBindable { var sqlValue: SQLValue { .int(self ? 1 : 0) } }
extension SQLValue: SQLBindable { var sqlValue: SQLValue { self } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
    var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

/// The SQL spoken by a backend, where the two differ (column types, locks).
enum SQLDialect: Sendable {
    case sqlite
    case postgres
}

/// One row of a result, read by column index (0-based), whichever backend produced it.
protocol SQLRow {
    func isNull(_ column: Int32) -> Bool
    func int64(_ column: Int32) -> Int64
    func double(_ column: Int32) -> Double
    func text(_ column: Int32) -> String
}

extension SQLRow {
    func int(_ column: Int32) -> Int { Int(self.int64(column)) }
    func bool(_ column: Int32) -> Bool { self.int64(column) != 0 }
    func optionalDouble(_ column: Int32) -> Double? { self.isNull(column) ? nil : self.double(column) }
    func optionalText(_ column: Int32) -> String? { self.isNull(column) ? nil : self.text(column) }
}

/// What the shared queries and migrations need from a backend: statements written once with `?` placeholders,
/// prepared and cached by the backend, and transactions.
protocol SQLDatabase: AnyObject {
    associatedtype Row: SQLRow

    var dialect: SQLDialect { get }
    /// Runs statements without parameters or results (schema changes, transaction control).
    func execute(_ sql: String) throws
    /// Runs `sql` for its effect; returns the number of rows changed.
    func run(_ sql: String, parameters: [SQLValue]) throws -> Int
    /// Runs an INSERT into a table with an `id` identity column; returns the new row's id.
    func insertReturningID(_ sql: String, parameters: [SQLValue]) throws -> Int64
    /// Runs a query and maps every row.
    func query<T>(_ sql: String, parameters: [SQLValue], map: (Row) throws -> T) throws -> [T]
    /// The first row of a query, mapped, or nil.
    func queryFirst<T>(_ sql: String, parameters: [SQLValue], map: (Row) throws -> T) throws -> T?
    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws. Statements `body`
    /// runs through this database on the same thread belong to the transaction.
    func transaction<T>(_ body: () throws -> T) throws -> T
}

extension SQLDatabase {
    @discardableResult
    func run(_ sql: String, _ parameters: SQLBindable...) throws -> Int {
        try self.run(sql, parameters: parameters.map(\.sqlValue))
    }

    func insertReturningID(_ sql: String, _ parameters: SQLBindable...) throws -> Int64 {
        try self.insertReturningID(sql, parameters: parameters.map(\.sqlValue))
    }

    func query<T>(_ sql: String, _ parameters: SQLBindable..., map: (Row) throws -> T) throws -> [T] {
        try self.query(sql, parameters: parameters.map(\.sqlValue), map: map)
    }

    func queryFirst<T>(_ sql: String, _ parameters: SQLBindable..., map: (Row) throws -> T) throws -> T? {
        try self.queryFirst(sql, parameters: parameters.map(\.sqlValue), map: map)
    }

    /// Runs `body` between `begin` and `commit`; a throw rolls back (a `rollback` that fails, on a lost
    /// connection, is ignored: the server drops the transaction anyway) and is rethrown.
    func inTransaction<T>(begin: String, commit: String = "COMMIT", rollback: String = "ROLLBACK",
                          _ body: () throws -> T) throws -> T {
        try self.execute(begin)
        do {
            let value = try body()
            try self.execute(commit)
            return value
        } catch {
            try? self.execute(rollback)
            throw error
        }
    }

    /// The integer in the first column of the first row (0 when there is no row).
    func scalar(_ sql: String, _ parameters: SQLBindable...) throws -> Int64 {
        try self.queryFirst(sql, parameters: parameters.map(\.sqlValue)) { $0.int64(0) } ?? 0
    }
}
