/// Where the store lives, from `--database` / `SPACES_DATABASE`: nothing or `sqlite:` (the data folder's
/// `spaces.sqlite3`), `sqlite:/path/to/file`, or `postgres://user:password@host:port/db` (`postgresql://` too).
enum DatabaseLocation: Equatable, Sendable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String)

    /// A `--database` value that names neither backend.
    struct Unsupported: Error, CustomStringConvertible {
        let value: String
        var description: String {
            "unsupported --database \"\(DatabaseLocation.redacted(self.value))\": use sqlite:[path] or postgres://user:password@host:port/db"
        }
    }

    init(_ value: String?, dataDirectory: String) throws(Unsupported) {
        let value = value ?? ""
        let lowered = value.lowercased()
        if value.isEmpty || lowered == "sqlite:" || lowered == "sqlite://" {
            self = .sqlite(path: dataDirectory + "/spaces.sqlite3")
        } else if lowered.hasPrefix("sqlite:") {
            var path = String(value.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }
            self = .sqlite(path: path)
        } else if lowered.hasPrefix("postgres://") || lowered.hasPrefix("postgresql://") {
            self = .postgres(url: value)
        } else {
            throw Unsupported(value: value)
        }
    }

    /// Opens the store (migrating its schema).
    func open() throws -> any SpacesStore {
        switch self {
        case .sqlite(let path): return try SQLiteStore(path: path)
        case .postgres(let url): return try PostgresStore(url: url)
        }
    }

    /// For logs: the password is never printed.
    var description: String {
        switch self {
        case .sqlite(let path): return "sqlite:\(path)"
        case .postgres(let url): return Self.redacted(url)
        }
    }

    /// `url` with the password of its user-info part replaced by `***`.
    static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") else { return url }
        let userInfo = url[scheme.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return url }
        return String(url[..<url.index(after: colon)]) + "***" + String(url[at...])
    }
}
