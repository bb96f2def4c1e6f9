/// What kind of failure a store call met, the same for every backend: callers branch on this, never on SQLite
/// result codes or PostgreSQL SQLSTATEs.
enum StoreFailureKind: Sendable, Equatable {
    /// A UNIQUE, NOT NULL or other constraint refused the change (a taken name).
    case constraintViolation
    /// The database cannot be reached (a PostgreSQL restart, a lost network): the call may work again soon.
    case unavailable
    /// Anything else.
    case failed
}

/// An error a backend throws from a store call.
protocol StoreFailure: Error, CustomStringConvertible {
    var kind: StoreFailureKind { get }
}

extension StoreFailure {
    /// A UNIQUE / PRIMARY KEY (or other constraint) violation.
    var isConstraintViolation: Bool { self.kind == .constraintViolation }
}

extension APIError {
    /// Seconds a client is asked to wait when the database is unreachable.
    static let databaseRetryAfterSeconds: Int64 = 5

    /// 503 `database_unavailable` with `Retry-After`: the database is down for now.
    static func databaseUnavailable() -> APIError {
        APIError(503, "database_unavailable", "The database is unavailable, try again shortly",
                 extra: ["retry_after": .int(Self.databaseRetryAfterSeconds)])
    }

    /// The answer for a store error: 503 when the database is unreachable, else `fallback`.
    static func store(_ error: any Error, fallback: APIError) -> APIError {
        if let failure = error as? any StoreFailure, failure.kind == .unavailable { return .databaseUnavailable() }
        return fallback
    }
}
