import Glibc

/// Tells whether a failed write to the database met a full disk or the file-size limit, when SQLite did not
/// keep the `errno` that said so.
enum StorageProbe {
    /// Less free space than this on the database's file system counts as full (SQLite writes whole pages).
    static let minimumFreeBytes: UInt64 = 64 * 1024

    /// ENOSPC when the file system of `databasePath` has (almost) no free space, EFBIG when the database or
    /// its WAL reached the process's RLIMIT_FSIZE, else 0.
    static func exhaustion(databasePath: String) -> Int32 {
        let directory = databasePath.lastIndex(of: "/").map { String(databasePath[..<$0]) } ?? "."
        var fileSystem = statvfs()
        if statvfs(directory.isEmpty ? "/" : directory, &fileSystem) == 0,
           UInt64(fileSystem.f_bavail) * UInt64(fileSystem.f_frsize) < Self.minimumFreeBytes {
            return ENOSPC
        }
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return 0 }
        for path in [databasePath, databasePath + "-wal"] {
            var info = stat()
            if stat(path, &info) == 0, UInt64(info.st_size) + Self.minimumFreeBytes >= UInt64(limit.rlim_cur) { return EFBIG }
        }
        return 0
    }
}
