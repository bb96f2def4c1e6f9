/// What kind of failure a store call met, the same for every backend: callers branch on this, never on SQLite
/// result codes or PostgreSQL SQLSTATEs.
enum StoreFailureKind: Sendable, Equatable {
    /// A UNIQUE, NOT NULL or other constraint refused the change (a taken name).
    case constraintViolation
    /// The database cannot be reached (a PostgreSQL restart, a lost network): the call may work again soon.
    case unavailable
    /// The disk (or the database's quota) is full: nothing more can be written until space is freed.
    case storageFull
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

    /// Seconds a client is asked to wait when the disk is full (an operator has to free space first).
    static let storageFullRetryAfterSeconds: Int64 = 30

    /// 503 `storage_full` with `Retry-After`: the database cannot grow; what it holds is intact.
    static func storageFull() -> APIError {
        APIError(503, "storage_full", "The server's storage is full, try again later",
                 extra: ["retry_after": .int(Self.storageFullRetryAfterSeconds)])
    }

    /// The answer for a store error: 503 when the database is unreachable or full, else `fallback`.
    static func store(_ error: any Error, fallback: APIError) -> APIError {
        switch (error as? any StoreFailure)?.kind {
        case .unavailable: return .databaseUnavailable()
        case .storageFull: return .storageFull()
        default: return fallback
        }
    }
}
