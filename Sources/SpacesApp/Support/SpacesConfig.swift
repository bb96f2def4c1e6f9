import EngineIO
import Foundation
import Transport

/// Command-line flags, each also settable by an environment variable.
struct SpacesConfig: Sendable {
    var host = "0.0.0.0"
    var port = 5001
    var dataDirectory = "./data"
    /// `--uploads-dir`: request files and space covers; a folder every node of a cluster shares. Nil: in the data folder.
    var uploadsDirectory: String?
    /// `--session-key`: file of the key that signs login cookies; nodes of a cluster share one. Nil: in the data folder.
    var sessionKeyFile: String?
    /// `--database`: empty for SQLite in the data folder (see `DatabaseLocation`).
    var database: String?
    var loops = ProcessInfo.processInfo.activeProcessorCount
    /// Largest Socket.IO message (images and audio travel inline).
    var maxMessageBytes = 16 * 1024 * 1024
    /// Largest HTTP request body (uploads).
    var maxUploadBytes = 64 * 1024 * 1024
    var publicURL: String?
    var pbkdf2Iterations = PasswordHasher.defaultIterations
    var pingIntervalMillis = 25_000
    var pingTimeoutMillis = 20_000
    /// Most bytes queued for one client that stopped reading (beyond one message) before it is dropped.
    var maxBackpressure = 1 << 20
    /// Most bytes queued for such clients together.
    var maxQueuedOutput = OutputBudget.defaultLimit
    var adminUser = "admin"
    var adminPassword: String?
    /// Redis of a cluster of `spaces` nodes: live page updates then reach browsers on any node.
    var redisURL: String?
    var verbose = false
    /// Serves Socket.IO v2 clients (python-socketio 4.x workers) next to v4 ones; `--no-eio3` turns it off.
    var allowEIO3 = true
    /// Behind a reverse proxy: client addresses and https come from X-Forwarded-For / X-Forwarded-Proto.
    var trustProxy = false
    var tlsCertificate: String?
    var tlsKey: String?
    /// Connections open at once; nil: the default, which keeps descriptors free for the database and uploads
    /// (`ConnectionLimits.fileDescriptorDefault()`, taken once the server raised its descriptor limit).
    var maxConnections: Int?
    /// Connections open at once from one address (loopback exempt); see `defaultMaxConnectionsPerIP`.
    var maxConnectionsPerIP = Self.defaultMaxConnectionsPerIP
    /// Time a connection has to send a complete request head (slowloris).
    var headerTimeoutMillis = 30_000

    /// 1,000 per address: a browser opens about 7 connections (6 HTTP, 1 WebSocket), so some 140 people
    /// behind one NAT still get in, while one address cannot take every descriptor. Behind a proxy
    /// (`--trust-proxy`) every connection comes from the proxy, so the default there is no limit.
    static let defaultMaxConnectionsPerIP = 1000

    /// Each flag: name, environment variable, help.
    static let options: [(flag: String, env: String, help: String)] = [
        ("host", "SPACES_HOST", "address to bind (default 0.0.0.0)"),
        ("port", "SPACES_PORT", "port (default 5001; 0 picks a free one, printed on start)"),
        ("data-dir", "SPACES_DATA_DIR", "folder for the SQLite database and temporary files, and by default uploads and the session key (default ./data)"),
        ("uploads-dir", "SPACES_UPLOADS_DIR",
         "folder for uploaded files and space covers; nodes of a cluster share one (default DATA_DIR/uploads)"),
        ("session-key", "SPACES_SESSION_KEY",
         "file of the login-cookie key, created when missing; nodes of a cluster share one (default DATA_DIR/session.key)"),
        ("database", "SPACES_DATABASE", "postgres://user:password@host:port/db, or sqlite:[path] (default: SQLite in the data folder)"),
        ("loops", "SPACES_LOOPS", "event loop threads (default: one per core)"),
        ("max-message-mb", "SPACES_MAX_MESSAGE_MB", "largest Socket.IO message in MB (default 16)"),
        ("max-upload-mb", "SPACES_MAX_UPLOAD_MB", "largest HTTP upload in MB (default 64)"),
        ("public-url", "SPACES_PUBLIC_URL", "scheme://host[:port] for file URLs given to workers (default: from Host)"),
        ("pbkdf2-iterations", "SPACES_PBKDF2_ITERATIONS", "PBKDF2-HMAC-SHA256 rounds for new password hashes (default 600000)"),
        ("ping-interval", "SPACES_PING_INTERVAL", "Engine.IO heartbeat interval in ms (default 25000)"),
        ("ping-timeout", "SPACES_PING_TIMEOUT", "Engine.IO heartbeat timeout in ms (default 20000)"),
        ("max-backpressure", "SPACES_MAX_BACKPRESSURE",
         "bytes queued for a client that stopped reading before it is dropped (default 1048576; 0: no cap)"),
        ("max-queued-output", "SPACES_MAX_QUEUED_OUTPUT",
         "bytes queued for such clients together; over it the largest backlogs go first (default 128 MiB, or RAM/16 if less)"),
        ("admin-user", "SPACES_ADMIN_USER", "name of the admin account created on first start (default admin)"),
        ("admin-password", "SPACES_ADMIN_PASSWORD", "admin password, set on every start (default: generated once and printed)"),
        ("redis", "SPACES_REDIS", "redis://host:port of a cluster: live page updates reach browsers on every node (default: none)"),
        ("tls-cert", "SPACES_TLS_CERT", "PEM certificate chain: serve https/wss (with --tls-key; SIGHUP reloads both)"),
        ("tls-key", "SPACES_TLS_KEY", "PEM private key of --tls-cert"),
        ("max-connections", "SPACES_MAX_CONNECTIONS",
         "connections open at once; more are closed unread (default: descriptor limit less 128; 0: no limit)"),
        ("max-connections-per-ip", "SPACES_MAX_CONNECTIONS_PER_IP",
         "connections open at once from one address, loopback exempt (default 1000, none with --trust-proxy; 0: no limit)"),
        ("header-timeout", "SPACES_HEADER_TIMEOUT", "ms a connection has to send a complete request head (default 30000)"),
    ]

    /// The flags `spaces` accepts: every option above, and `--verbose`; `usage` lists them all.
    static var acceptedFlags: [CommandLineFlag] {
        self.options.map { CommandLineFlag($0.flag, value: "VALUE", help: $0.help) }
            + [CommandLineFlag("verbose", help: "more logging"),
               CommandLineFlag("no-eio3", help: "refuse Engine.IO v3 clients (Socket.IO v2, python-socketio 4.x)"),
               CommandLineFlag("trust-proxy", help: Self.trustProxyHelp)]
    }

    static let trustProxyHelp = "behind a reverse proxy: take client addresses and https from X-Forwarded-For/-Proto"

    static var usage: String {
        var text = "usage: spaces [--host H] [--port P] [--data-dir D] [options]\n\n"
        for option in self.options {
            // Padded, never cut: a longer name (max-connections-per-ip) pushes its help to the right.
            text += "  --\(option.flag.padding(toLength: max(19, option.flag.count), withPad: " ", startingAt: 0)) \(option.help)\n"
            text += "     \("".padding(toLength: 19, withPad: " ", startingAt: 0))env \(option.env)\n"
        }
        text += "  --verbose             more logging (env SPACES_VERBOSE=1)\n"
        text += "  --no-eio3             refuse Engine.IO v3 clients: Socket.IO v2, python-socketio 4.x (env SPACES_NO_EIO3=1)\n"
        text += "  --trust-proxy         \(Self.trustProxyHelp)\n"
        text += "                        env SPACES_TRUST_PROXY=1\n"
        text += "  --help                this text\n"
        return text
    }

    /// Reads flags, falling back to the environment.
    init(flags: CommandLineFlags) {
        self.host = flags.string("host", env: "SPACES_HOST") ?? self.host
        self.port = flags.int("port", env: "SPACES_PORT", default: self.port)
        self.dataDirectory = flags.string("data-dir", env: "SPACES_DATA_DIR") ?? self.dataDirectory
        self.uploadsDirectory = flags.string("uploads-dir", env: "SPACES_UPLOADS_DIR")
        self.sessionKeyFile = flags.string("session-key", env: "SPACES_SESSION_KEY")
        self.database = flags.string("database", env: "SPACES_DATABASE")
        self.loops = max(1, flags.int("loops", env: "SPACES_LOOPS", default: self.loops))
        self.maxMessageBytes = max(1, flags.int("max-message-mb", env: "SPACES_MAX_MESSAGE_MB", default: 16)) * 1024 * 1024
        self.maxUploadBytes = max(1, flags.int("max-upload-mb", env: "SPACES_MAX_UPLOAD_MB", default: 64)) * 1024 * 1024
        self.publicURL = flags.string("public-url", env: "SPACES_PUBLIC_URL").map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.pbkdf2Iterations = max(1, flags.int("pbkdf2-iterations", env: "SPACES_PBKDF2_ITERATIONS",
                                                 default: PasswordHasher.defaultIterations))
        self.pingIntervalMillis = flags.int("ping-interval", env: "SPACES_PING_INTERVAL", default: self.pingIntervalMillis)
        self.pingTimeoutMillis = flags.int("ping-timeout", env: "SPACES_PING_TIMEOUT", default: self.pingTimeoutMillis)
        self.maxBackpressure = flags.int("max-backpressure", env: "SPACES_MAX_BACKPRESSURE", default: self.maxBackpressure)
        self.maxQueuedOutput = flags.int("max-queued-output", env: "SPACES_MAX_QUEUED_OUTPUT", default: self.maxQueuedOutput)
        self.adminUser = flags.string("admin-user", env: "SPACES_ADMIN_USER") ?? self.adminUser
        self.adminPassword = flags.string("admin-password", env: "SPACES_ADMIN_PASSWORD")
        self.redisURL = flags.string("redis", env: "SPACES_REDIS")
        self.verbose = flags.has("verbose") || ProcessInfo.processInfo.environment["SPACES_VERBOSE"] == "1"
        self.allowEIO3 = !(flags.has("no-eio3") || ProcessInfo.processInfo.environment["SPACES_NO_EIO3"] == "1")
        self.tlsCertificate = flags.string("tls-cert", env: "SPACES_TLS_CERT")
        self.tlsKey = flags.string("tls-key", env: "SPACES_TLS_KEY")
        self.trustProxy = flags.has("trust-proxy") || ProcessInfo.processInfo.environment["SPACES_TRUST_PROXY"] == "1"
        let maxConnections = flags.int("max-connections", env: "SPACES_MAX_CONNECTIONS", default: -1)
        self.maxConnections = maxConnections >= 0 ? maxConnections : nil
        self.maxConnectionsPerIP = flags.int("max-connections-per-ip", env: "SPACES_MAX_CONNECTIONS_PER_IP",
                                             default: self.trustProxy ? 0 : Self.defaultMaxConnectionsPerIP)
        self.headerTimeoutMillis = flags.int("header-timeout", env: "SPACES_HEADER_TIMEOUT", default: self.headerTimeoutMillis)
    }
}
