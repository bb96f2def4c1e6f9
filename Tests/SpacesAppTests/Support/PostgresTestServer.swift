import Foundation
import Synchronization
@testable import SpacesApp

/// A real PostgreSQL 15 server (Debian's `postgresql` package) for tests: a cluster made with `initdb` in a
/// temporary folder, listening only on a unix socket in that folder (so no TCP port can clash; clients still
/// log in with a password), run by the unprivileged `postgres` user when the tests run as root (PostgreSQL
/// refuses to run as root).
final class PostgresTestServer: Sendable {
    static let binDirectory = "/usr/lib/postgresql/15/bin"
    let directory: String
    let password: String
    /// Only names the socket file (`.s.PGSQL.5432`): the folder is the test's own.
    let port = 5432

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private var dataDirectory: String { self.directory + "/data" }

    /// Makes the cluster and starts the server; waits until it accepts connections.
    init() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binDirectory + "/initdb") else {
            throw Failure(description: "PostgreSQL 15 is not installed (apt-get install postgresql; `make deps` does it)")
        }
        self.directory = NSTemporaryDirectory() + "spaces-pg-\(UUID().uuidString.prefix(8))"
        self.password = "pw-" + UUID().uuidString.prefix(12)
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let passwordFile = self.directory + "/pwfile"
        try Data(self.password.utf8).write(to: URL(fileURLWithPath: passwordFile))
        if getuid() == 0 {
            guard let owner = getpwnam("postgres") else {
                throw Failure(description: "no `postgres` user: install Debian's postgresql package")
            }
            for path in [self.directory, passwordFile] { chown(path, owner.pointee.pw_uid, owner.pointee.pw_gid) }
        }
        try self.runAsOwner([Self.binDirectory + "/initdb", "-D", self.dataDirectory, "-U", "postgres", "-E", "UTF8",
                             "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "--pwfile=" + passwordFile, "--no-sync"])
        try self.start()
    }

    /// `postgres://postgres:<password>@/<database>?host=<folder>&port=5432`: libpq's URI form for a unix socket.
    func url(database: String) -> String {
        "postgres://postgres:\(self.password)@/\(database)?host=\(self.directory)&port=\(self.port)"
    }

    /// Starts the server (again) and waits, at most 30 s, until it answers.
    func start() throws {
        let options = "-p \(self.port) -k \(self.directory) -c listen_addresses='' -c fsync=off"
            + " -c full_page_writes=off -c max_connections=200"
        try self.runAsOwner([Self.binDirectory + "/pg_ctl", "-D", self.dataDirectory, "-l", self.directory + "/log",
                             "-o", options, "-w", "-t", "30", "start"])
        let deadline = Date().addingTimeInterval(30)
        while true {
            do {
                _ = try PostgresConnection(url: self.url(database: "postgres"), connectTimeoutSeconds: 2)
                return
            } catch {
                guard Date() < deadline else { throw Failure(description: "PostgreSQL did not accept connections: \(error)") }
                usleep(50_000)
            }
        }
    }

    /// Stops the server at once (`-m immediate`: connections are cut, as in a crash).
    func stop() {
        try? self.runAsOwner([Self.binDirectory + "/pg_ctl", "-D", self.dataDirectory, "stop", "-m", "immediate", "-w", "-t", "30"])
    }

    /// Stops the server and removes its folder.
    func destroy() {
        self.stop()
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    /// A new empty database; returns its URL.
    func createDatabase() throws -> String {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        let admin = try PostgresConnection(url: self.url(database: "postgres"))
        try admin.execute("CREATE DATABASE \(name)")
        return self.url(database: name)
    }

    /// Runs a PostgreSQL program, as `postgres` when we are root; its output goes to a file that failures quote.
    private func runAsOwner(_ arguments: [String]) throws {
        let command = getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + arguments : arguments
        // posix_spawn and waitpid rather than Foundation's Process, whose exit monitoring can stall inside the
        // test runner; a file rather than a pipe, since the server pg_ctl starts inherits and keeps the output.
        let outputPath = self.directory + "/command.log"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let copies = command.map { strdup($0) }
        defer { for copy in copies { free(copy) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, command[0], &actions, nil, copies + [nil], environ)
        guard spawned == 0 else { throw Failure(description: "cannot run \(command[0]): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // Exited normally with code 0 (WIFEXITED and WEXITSTATUS, spelled out: the macros are not imported).
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            throw Failure(description: "\(arguments.joined(separator: " ")) failed (status \(status)): \(text)")
        }
    }
}

/// The server the parametrised store and queue tests share: started on first use, stopped when the test
/// process exits. Each test gets a database of its own.
enum SharedPostgres {
    private static let server = Mutex<Result<PostgresTestServer, any Error>?>(nil)

    static func get() throws -> PostgresTestServer {
        try self.server.withLock { state in
            if let state { return try state.get() }
            let started = Result { try PostgresTestServer() }
            state = started
            if case .success = started { atexit { SharedPostgres.stopAtExit() } }
            return try started.get()
        }
    }

    private static func stopAtExit() {
        if case .success(let server)? = self.server.withLock({ $0 }) { server.destroy() }
    }
}

/// The backends every store and queue test runs against.
enum Backend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    var description: String { self.rawValue }

    /// Where a fresh, empty store of this backend lives: a file in `directory`, or a new PostgreSQL database.
    func freshLocation(directory: String) throws -> DatabaseLocation {
        switch self {
        case .sqlite: return .sqlite(path: directory + "/db.sqlite3")
        case .postgres: return .postgres(url: try SharedPostgres.get().createDatabase())
        }
    }
}
