import Foundation
import Testing
@testable import SpacesApp

/// The store's queries, run against both backends (SQLite in a temporary folder, a real PostgreSQL server).
@Suite final class StoreTests {
    private let directory: String

    init() throws {
        self.directory = NSTemporaryDirectory() + "spaces-store-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    private func open(_ backend: Backend) throws -> (any SpacesStore, DatabaseLocation) {
        let location = try backend.freshLocation(directory: self.directory)
        return (try location.open(), location)
    }

    @Test(arguments: Backend.allCases)
    func migratesOnceAndKeepsData(_ backend: Backend) throws {
        let (store, location) = try self.open(backend)
        _ = try store.createUser(username: "ada", passwordHash: "h", isAdmin: false, now: 1)
        store.close()
        let reopened = try location.open()
        defer { reopened.close() }
        #expect(try reopened.user(named: "ada")?.id == 1)
        let version = try (reopened as? SQLiteStore).map { try Migrations.version($0.db) }
            ?? (reopened as? PostgresStore).map { try Migrations.version($0.db) }
        #expect(version == Migrations.all.count)
    }

    @Test func sqliteUsesWALAndReadsTheOldUserVersion() throws {
        let path = self.directory + "/old.sqlite3"
        do {
            // A database made before the schema_version table: its migrations are counted by user_version.
            let old = try Database(path: path)
            try old.execute(Migrations.all[0].compactMap { $0.sql(.sqlite) }.joined(separator: ";\n"))
            try old.execute("PRAGMA user_version = 1")
            try old.run("INSERT INTO users (username, password_hash, created_at) VALUES ('old', 'h', 1)")
            old.close()
        }
        let store = try SQLiteStore(path: path)
        defer { store.close() }
        #expect(try store.db.queryFirst("PRAGMA journal_mode") { $0.text(0) } == "wal")
        #expect(try store.user(named: "old") != nil, "the old database is kept, not migrated again")
        #expect(try Migrations.version(store.db) == Migrations.all.count)
    }

    @Test(arguments: Backend.allCases)
    func uniqueUsernamesAndWebsocketsNames(_ backend: Backend) throws {
        let (store, _) = try self.open(backend)
        defer { store.close() }
        _ = try store.createUser(username: "ada", passwordHash: "h", isAdmin: false, now: 1)
        let duplicate = #expect(throws: (any Error).self) {
            try store.createUser(username: "ada", passwordHash: "h", isAdmin: false, now: 1)
        }
        #expect((duplicate as? any StoreFailure)?.kind == .constraintViolation)
        if backend == .postgres { #expect((duplicate as? PostgresError)?.sqlState == "23505") }
        let first = try store.createSpace(Space(name: "Echo", cardType: .websockets))
        #expect(first.id > 0)
        #expect(throws: (any Error).self) { try store.createSpace(Space(name: "Echo", cardType: .websockets)) }
        let standard = try store.createSpace(Space(name: "Echo", cardType: .standard))
        #expect(standard.id > first.id)
        #expect(try store.websocketSpaces(named: "Echo").count == 1)
        #expect(try store.websocketSpaces(named: "echo").isEmpty, "names are case-sensitive")
    }

    @Test(arguments: Backend.allCases)
    func transactionRollsBack(_ backend: Backend) throws {
        let (store, _) = try self.open(backend)
        defer { store.close() }
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try store.transaction {
                _ = try store.createUser(username: "temp", passwordHash: "h", isAdmin: false, now: 1)
                #expect(try store.user(named: "temp") != nil, "visible inside the transaction")
                throw Boom()
            }
        }
        #expect(try store.user(named: "temp") == nil)
        try store.transaction { _ = try store.createUser(username: "kept", passwordHash: "h", isAdmin: true, now: 2) }
        #expect(try store.firstAdmin()?.username == "kept")
    }

    @Test(arguments: Backend.allCases)
    func spaceRoundTrip(_ backend: Backend) throws {
        let (store, _) = try self.open(backend)
        defer { store.close() }
        var space = Space(name: "Full", description: "d ' \" ? ünï", cardType: .websockets, coverImage: "c.png",
                          enablePrompt: true, enableAudio: true, enableVideo: false, enableFileUpload: true,
                          rateLimitSeconds: 7, maxWorkers: 3, maxConcurrency: 8, timeoutSeconds: 60,
                          workerToken: "tok", maxUploadBytes: 5_000_000_000, createdAt: 1_733_500_000.25)
        space = try store.createSpace(space)
        #expect(try store.space(id: space.id) == space)
        space.workerToken = nil
        space.coverImage = nil
        space.enablePrompt = false
        try store.updateSpace(space)
        #expect(try store.space(id: space.id) == space)
        #expect(try store.spaces() == [space])
        try store.deleteSpace(id: space.id)
        #expect(try store.space(id: space.id) == nil)
    }

    @Test(arguments: Backend.allCases)
    func requestRoundTrip(_ backend: Backend) throws {
        let (store, _) = try self.open(backend)
        defer { store.close() }
        var record = RequestRecord(id: "r1", spaceID: 1, userID: 2, username: "ada", payload: "{\"prompt\":\"hi ?\"}",
                                   status: .queued, result: nil, error: nil, token: "t", deliveries: 0, workerID: nil,
                                   progress: nil, progressMessage: nil, queueOrder: 5, createdAt: 10, updatedAt: 10,
                                   startedAt: nil, finishedAt: nil, baseURL: "http://x")
        try store.insertRequest(record)
        #expect(try store.request(id: "r1") == record)
        #expect(throws: (any Error).self) { try store.insertRequest(record) }
        record.status = .completed
        record.result = "{\"text_output\":\"ok\"}"
        record.progress = 0.1
        record.finishedAt = 12.123456789012
        try store.updateRequest(record)
        #expect(try store.request(id: "r1") == record, "doubles come back exactly")
        #expect(try store.countsByStatus()[.completed] == 1)
        #expect(try store.requestCount(userID: 2, since: 0) == 1)
        #expect(try store.requestCount(userID: 2, since: 11) == 0)
        #expect(try store.requestCountsByUser(since: 0) == [2: 1])
        #expect(try store.maxQueueOrder() == 5)
    }

    @Test(arguments: Backend.allCases)
    func activeRequestsInQueueOrderAndNewestFirstLists(_ backend: Backend) throws {
        let (store, _) = try self.open(backend)
        defer { store.close() }
        #expect(try store.maxQueueOrder() == 0)
        let statuses: [RequestStatus] = [.processing, .queued, .completed, .queued]
        for (index, status) in statuses.enumerated() {
            try store.insertRequest(RequestRecord(
                id: "r\(index)", spaceID: Int64(index % 2 + 1), userID: 1, username: "u", payload: "{}", status: status,
                result: nil, error: nil, token: "t", deliveries: 0, workerID: nil, progress: nil, progressMessage: nil,
                queueOrder: Int64(10 - index), createdAt: Double(index), updatedAt: Double(index), startedAt: nil,
                finishedAt: nil))
        }
        #expect(try store.activeRequests().map(\.id) == ["r0", "r3", "r1"], "by space, then queue order")
        #expect(try store.requests(userID: 1, spaceID: nil, limit: 2).map(\.id) == ["r3", "r2"])
        #expect(try store.requests(userID: 1, spaceID: 2, limit: 10).map(\.id) == ["r3", "r1"])
        #expect(try store.recentRequests(limit: 10).count == 4)
        #expect(try store.countsByStatus() == [.processing: 1, .queued: 2, .completed: 1])
    }

    @Test func databaseLocations() throws {
        #expect(try DatabaseLocation(nil, dataDirectory: "/d") == .sqlite(path: "/d/spaces.sqlite3"))
        #expect(try DatabaseLocation("sqlite:", dataDirectory: "/d") == .sqlite(path: "/d/spaces.sqlite3"))
        #expect(try DatabaseLocation("sqlite:///var/x.db", dataDirectory: "/d") == .sqlite(path: "/var/x.db"))
        let url = "postgres://u:secret@db.example:5433/spaces"
        let location = try DatabaseLocation(url, dataDirectory: "/d")
        #expect(location == .postgres(url: url))
        #expect(location.description == "postgres://u:***@db.example:5433/spaces")
        #expect(throws: DatabaseLocation.Unsupported.self) { try DatabaseLocation("mysql://x", dataDirectory: "/d") }
    }

    @Test func placeholdersAreNumberedOutsideQuotes() {
        #expect(PostgresConnection.numberedPlaceholders("SELECT ? , '?' , \"a?\" WHERE x = ? AND y = ?")
                == "SELECT $1 , '?' , \"a?\" WHERE x = $2 AND y = $3")
    }
}
