import XCTest
@testable import SpacesApp

final class StoreTests: XCTestCase {
    private var directory: String!

    override func setUp() {
        self.directory = NSTemporaryDirectory() + "spaces-store-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    func testMigratesOnceAndUsesWAL() throws {
        let path = self.directory + "/db.sqlite3"
        do {
            let store = try Store(path: path)
            XCTAssertEqual(store.db.userVersion, Migrations.all.count)
            let mode = try store.db.queryFirst("PRAGMA journal_mode") { $0.text(0) }
            XCTAssertEqual(mode, "wal")
            _ = try store.createUser(username: "ada", passwordHash: "h", isAdmin: false, now: 1)
            store.close()
        }
        let reopened = try Store(path: path)
        XCTAssertEqual(try reopened.user(named: "ada")?.id, 1)
        reopened.close()
    }

    func testUniqueUsernamesAndWebsocketsNames() throws {
        let store = try Store(path: self.directory + "/db.sqlite3")
        defer { store.close() }
        _ = try store.createUser(username: "ada", passwordHash: "h", isAdmin: false, now: 1)
        XCTAssertThrowsError(try store.createUser(username: "ada", passwordHash: "h", isAdmin: false, now: 1)) { error in
            XCTAssertTrue((error as? SQLiteError)?.isConstraintViolation ?? false)
        }
        _ = try store.createSpace(Space(name: "Echo", cardType: .websockets))
        XCTAssertThrowsError(try store.createSpace(Space(name: "Echo", cardType: .websockets)))
        XCTAssertNoThrow(try store.createSpace(Space(name: "Echo", cardType: .standard)))
        XCTAssertEqual(try store.websocketSpaces(named: "Echo").count, 1)
        XCTAssertEqual(try store.websocketSpaces(named: "echo").count, 0, "names are case-sensitive")
    }

    func testTransactionRollsBack() throws {
        let store = try Store(path: self.directory + "/db.sqlite3")
        defer { store.close() }
        struct Boom: Error {}
        XCTAssertThrowsError(try store.db.transaction {
            _ = try store.createUser(username: "temp", passwordHash: "h", isAdmin: false, now: 1)
            throw Boom()
        })
        XCTAssertNil(try store.user(named: "temp"))
    }

    func testRequestRoundTrip() throws {
        let store = try Store(path: self.directory + "/db.sqlite3")
        defer { store.close() }
        var record = RequestRecord(id: "r1", spaceID: 1, userID: 2, username: "ada", payload: "{\"prompt\":\"hi\"}",
                                   status: .queued, result: nil, error: nil, token: "t", deliveries: 0, workerID: nil,
                                   progress: nil, progressMessage: nil, queueOrder: 5, createdAt: 10, updatedAt: 10,
                                   startedAt: nil, finishedAt: nil, baseURL: "http://x")
        try store.insertRequest(record)
        XCTAssertEqual(try store.request(id: "r1"), record)
        record.status = .completed
        record.result = "{\"text_output\":\"ok\"}"
        record.finishedAt = 12.5
        try store.updateRequest(record)
        XCTAssertEqual(try store.request(id: "r1"), record)
        XCTAssertEqual(try store.countsByStatus()[.completed], 1)
        XCTAssertEqual(try store.requestCount(userID: 2, since: 0), 1)
        XCTAssertEqual(try store.maxQueueOrder(), 5)
    }
}
