/// The parts of a Redis URL. Written by hand rather than with Foundation's URL, which does not take
/// `unix:///path` the way Redis clients write it and is lenient about what it accepts.
struct RedisURL: Equatable {
    var endpoint: RedisConfiguration.Endpoint
    var useTLS: Bool
    var username: String?
    var password: String?
    var database: Int

    static func parse(_ url: String) throws(RedisClientError) -> RedisURL {
        guard let schemeEnd = url.range(of: "://") else { throw .invalidURL("no scheme in \(url)") }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        var rest = Substring(url[schemeEnd.upperBound...])
        var database = 0
        if let question = rest.firstIndex(of: "?") {
            database = try Self.databaseFromQuery(rest[rest.index(after: question)...])
            rest = rest[..<question]
        }
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }

        switch scheme {
        case "redis", "rediss":
            let pathStart = rest.firstIndex(of: "/") ?? rest.endIndex
            let authority = rest[..<pathStart]
            let path = rest[pathStart...]
            let (username, password, hostPort) = try Self.splitUserInfo(authority)
            let (host, port) = try Self.hostAndPort(hostPort)
            if path.count > 1 {
                guard let db = Int(path.dropFirst()), db >= 0 else { throw .invalidURL("database must be a number: \(path)") }
                database = db
            }
            return RedisURL(endpoint: .tcp(host: host, port: port), useTLS: scheme == "rediss",
                            username: username, password: password, database: database)
        case "unix", "redis+unix":
            // unix:///path, or unix://user:password@/path
            let pathStart = rest.firstIndex(of: "/") ?? rest.endIndex
            let (username, password, host) = try Self.splitUserInfo(rest[..<pathStart])
            guard host.isEmpty || host == "localhost" else { throw .invalidURL("a unix URL names no host: \(url)") }
            let path = String(rest[pathStart...])
            guard path.count > 1 else { throw .invalidURL("no socket path in \(url)") }
            return RedisURL(endpoint: .unix(path: path), useTLS: false,
                            username: username, password: password, database: database)
        default:
            throw .invalidURL("unknown scheme \(scheme) (redis, rediss or unix)")
        }
    }

    private static func splitUserInfo(_ authority: Substring) throws(RedisClientError) -> (String?, String?, Substring) {
        guard let at = authority.lastIndex(of: "@") else { return (nil, nil, authority) }
        let info = authority[..<at]
        let host = authority[authority.index(after: at)...]
        guard let colon = info.firstIndex(of: ":") else {
            // `redis://secret@host`: a lone word is the password, as redis-cli and node-redis read it.
            return (nil, try Self.percentDecode(info), host)
        }
        let user = try Self.percentDecode(info[..<colon])
        let password = try Self.percentDecode(info[info.index(after: colon)...])
        return (user.isEmpty ? nil : user, password, host)
    }

    private static func hostAndPort(_ text: Substring) throws(RedisClientError) -> (String, Int) {
        var host = text
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .invalidURL("unclosed [ in \(text)") }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { throw .invalidURL("bad host \(text)") }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        var port = 6379
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else { throw .invalidURL("bad port \(portText)") }
            port = number
        }
        return (host.isEmpty ? "localhost" : String(host), port)
    }

    private static func databaseFromQuery(_ query: Substring) throws(RedisClientError) -> Int {
        var database = 0
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0] == "db" else { continue }
            guard let db = Int(parts[1]), db >= 0 else { throw .invalidURL("db must be a number: \(parts[1])") }
            database = db
        }
        return database
    }

    static func percentDecode(_ text: Substring) throws(RedisClientError) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var utf8 = text.utf8.makeIterator()
        while let byte = utf8.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = utf8.next().flatMap(Self.hexValue), let low = utf8.next().flatMap(Self.hexValue) else {
                throw .invalidURL("bad percent escape in user or password")
            }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: return byte - 48
        case 65...70: return byte - 55
        case 97...102: return byte - 87
        default: return nil
        }
    }
}
