/// An error from PostgreSQL or libpq: the SQLSTATE (five characters; client-side failures get the connection
/// class, `08...`) and the message.
struct PostgresError: StoreFailure, Sendable {
    let sqlState: String
    let message: String

    /// libpq could not reach the server, or lost the connection.
    static func connectionLost(_ message: String) -> PostgresError { PostgresError(sqlState: "08006", message: message) }
    /// No connection could be made or borrowed from the pool in time.
    static func cannotConnect(_ message: String) -> PostgresError { PostgresError(sqlState: "08001", message: message) }

    var kind: StoreFailureKind {
        // Class 23: integrity constraint violation (unique, not null, foreign key, check).
        if self.sqlState.hasPrefix("23") { return .constraintViolation }
        // 53100: disk_full (the server could not extend a file).
        if self.sqlState == "53100" { return .storageFull }
        // Class 08: connection exception; 57P01-03: the server is shutting down, crashed or still starting;
        // 53300: too many connections.
        if self.sqlState.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300"].contains(self.sqlState) {
            return .unavailable
        }
        return .failed
    }

    var description: String { "PostgreSQL error \(self.sqlState): \(self.message)" }
}
