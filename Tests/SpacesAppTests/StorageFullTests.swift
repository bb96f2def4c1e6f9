import CSQLite
import Glibc
import Testing

@testable import SpacesApp

/// A full disk is told apart from other store failures (SQLITE_FULL, or a write that failed with ENOSPC or
/// EFBIG) and answered 503 `storage_full` with Retry-After; the end-to-end check on a real full disk is
/// Tests/Interop/spaces_faults_test.py.
@Suite struct StorageFullTests {
    @Test func sqliteFullAndFailedWritesOnAFullDiskAreStorageFull() {
        let ioErrWrite = SQLITE_IOERR | (3 << 8)
        #expect(SQLiteError(code: SQLITE_FULL, message: "database or disk is full").kind == .storageFull)
        #expect(SQLiteError(code: ioErrWrite, message: "disk I/O error", systemErrno: ENOSPC).kind == .storageFull)
        #expect(SQLiteError(code: ioErrWrite, message: "disk I/O error", systemErrno: EFBIG).kind == .storageFull)
        #expect(SQLiteError(code: ioErrWrite, message: "disk I/O error", systemErrno: EIO).kind == .failed)
        #expect(SQLiteError(code: SQLITE_CONSTRAINT | (8 << 8), message: "UNIQUE").kind == .constraintViolation)
    }

    @Test func postgresDiskFullIsStorageFull() {
        #expect(PostgresError(sqlState: "53100", message: "could not extend file").kind == .storageFull)
    }

    @Test func storageFullAnswers503WithRetryAfter() {
        let answer = APIError.store(SQLiteError(code: SQLITE_FULL, message: "full"), fallback: APIError(500, "storage_error", "x"))
        #expect(answer.status == 503)
        #expect(answer.code == "storage_full")
        #expect(answer.response.headers["Retry-After"] == String(APIError.storageFullRetryAfterSeconds))
        let other = APIError.store(SQLiteError(code: SQLITE_IOERR, message: "io"), fallback: APIError(500, "storage_error", "x"))
        #expect(other.code == "storage_error")
    }
}
