import Foundation
import SocketIO
import Testing
@testable import SpacesApp

/// The SQLite store's hot path: a request's whole life (submit with a free worker slot, result, two status reads)
/// costs two statements on tables, the rows kept in memory stay what the file holds (another connection's
/// commit, a rolled-back transaction), and the status answer keeps its bytes.
@Suite final class SQLiteHotPathTests {
    private let directory: String

    init() throws {
        self.directory = NSTemporaryDirectory() + "spaces-hot-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: self.directory + "/uploads", withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    private var path: String { self.directory + "/db.sqlite3" }

    /// A core on a new store, a user, and a space with a worker of `slots` registered.
    private func makeCore(slots: Int) throws -> (SQLiteStore, SpacesCore, User, Space, FakeWorker) {
        let store = try SQLiteStore(path: self.path)
        let core = SpacesCore(store: store, options: CoreOptions(uploadsDirectory: self.directory + "/uploads"))
        try core.sync { try core.start() }
        let user = try store.createUser(username: "ada", passwordHash: "h", isAdmin: false, now: 1)
        let space = try store.createSpace(Space(name: "Echo", cardType: .websockets, enablePrompt: true, maxConcurrency: slots))
        let worker = FakeWorker("w")
        core.sync { core.register(worker, RegistrationRequest(spaceName: "Echo", concurrency: slots)) }
        return (store, core, user, space, worker)
    }

    @Test func aRequestsLifeCostsTwoStatements() throws {
        let (store, core, user, space, worker) = try self.makeCore(slots: 8)
        func life(_ prompt: String) throws -> RequestRecord? {
            try core.sync {
                let account = try #require(try store.user(id: user.id))
                let record = try core.submit(Submission(prompt: prompt), spaceID: space.id,
                                             by: Submitter(userID: account.id, username: account.username, dailyQuota: 0),
                                             baseURL: "http://test")
                core.result(from: "w", requestID: record.id, status: "completed", result: ["text_output": .string(prompt)])
                _ = try store.request(id: record.id)
                return try store.request(id: record.id)
            }
        }
        _ = try life("warm")  // the account and the space are read once
        let before = store.db.tableStatements
        let record = try #require(try life("hi"))
        #expect(store.db.tableStatements - before == 2, "one INSERT (saved already dispatched) and one UPDATE (the result)")
        #expect(record.status == .completed)
        #expect(record.result == "{\"text_output\":\"hi\"}")
        #expect(worker.requestIDs.count == 2)
        // What the file holds, read by a connection of its own.
        let other = try Database(path: self.path)
        let stored = try other.queryFirst("SELECT status, deliveries, result FROM requests WHERE id = ?", record.id) {
            ($0.text(0), $0.int(1), $0.optionalText(2))
        }
        #expect(stored?.0 == "completed" && stored?.1 == 1 && stored?.2 == record.result)
        other.close()
        store.close()
    }

    @Test func rowsKeptInMemoryFollowOtherConnectionsAndRollbacks() throws {
        let store = try SQLiteStore(path: self.path)
        defer { store.close() }
        let user = try store.createUser(username: "ada", passwordHash: "h", isAdmin: false, now: 1)
        #expect(try store.user(id: user.id)?.dailyQuota == 0)
        let space = try store.createSpace(Space(name: "Echo", cardType: .websockets, enablePrompt: true))
        #expect(try store.space(id: space.id)?.rateLimitSeconds == 0)
        var record = RequestRecord(id: "r1", spaceID: space.id, userID: user.id, username: "ada", payload: "{}",
                                   status: .queued, result: nil, error: nil, token: "t", deliveries: 0, workerID: nil,
                                   progress: nil, progressMessage: nil, queueOrder: 1, createdAt: 10, updatedAt: 10,
                                   startedAt: nil, finishedAt: nil, baseURL: "")
        try store.insertRequest(record)

        // An operator's sqlite3 shell, say.
        let other = try Database(path: self.path)
        try other.run("UPDATE users SET daily_quota = 5 WHERE id = ?", user.id)
        try other.run("UPDATE spaces SET rate_limit_seconds = 9 WHERE id = ?", space.id)
        try other.run("UPDATE requests SET status = 'canceled' WHERE id = 'r1'")
        other.close()
        #expect(try store.user(id: user.id)?.dailyQuota == 5)
        #expect(try store.space(id: space.id)?.rateLimitSeconds == 9)
        #expect(try store.request(id: "r1")?.status == .canceled)

        // Our own writes, and a transaction that rolls back.
        try store.setDailyQuota(userID: user.id, 7)
        #expect(try store.user(id: user.id)?.dailyQuota == 7)
        record.status = .processing
        try store.updateRequest(record)
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try store.transaction {
                var changed = record
                changed.status = .failed
                try store.updateRequest(changed)
                #expect(try store.request(id: "r1")?.status == .failed, "visible inside the transaction")
                throw Boom()
            }
        }
        #expect(try store.request(id: "r1")?.status == .processing)
        try store.deleteSpace(id: space.id)
        #expect(try store.space(id: space.id) == nil)
    }

    /// A result that frees a slot saves the finished request and the next one dispatched in one commit: fewer WAL
    /// frames than the same writes committed one by one, the same rows in the file, and a failing statement inside
    /// throws to its caller while the others still commit.
    @Test func writesGatheredIntoOneCommit() throws {
        let store = try SQLiteStore(path: self.path)
        defer { store.close() }
        let user = try store.createUser(username: "ada", passwordHash: "h", isAdmin: false, now: 1)
        let space = try store.createSpace(Space(name: "Echo", cardType: .websockets, enablePrompt: true))
        var records: [RequestRecord] = []
        for index in 1...6 {
            let record = RequestRecord(id: "r\(index)", spaceID: space.id, userID: user.id, username: "ada", payload: "{}",
                                       status: .queued, result: nil, error: nil, token: "t", deliveries: 0, workerID: nil,
                                       progress: nil, progressMessage: nil, queueOrder: Int64(index), createdAt: 10,
                                       updatedAt: 10, startedAt: nil, finishedAt: nil, baseURL: "")
            try store.insertRequest(record)
            records.append(record)
        }
        func processing(_ index: Int) -> RequestRecord {
            var record = records[index]
            record.status = .processing
            record.workerID = "w"
            record.deliveries = 1
            return record
        }
        // WAL frames written since the WAL was last emptied.
        func frames(_ writes: () throws -> Void) throws -> Int64 {
            _ = try store.db.queryFirst("PRAGMA wal_checkpoint(TRUNCATE)") { $0.int64(0) }
            try writes()
            return try #require(try store.db.queryFirst("PRAGMA wal_checkpoint(PASSIVE)") { $0.int64(1) })
        }
        let apart = try frames {
            try store.updateRequest(processing(0))
            try store.updateRequest(processing(1))
        }
        let together = try frames {
            store.writingTogether {
                #expect((try? store.updateRequest(processing(2))) != nil)
                #expect((try? store.updateRequest(processing(3))) != nil)
            }
        }
        #expect(together < apart, "one commit writes each page once: \(together) frames against \(apart)")
        store.writingTogether {
            #expect((try? store.updateRequest(processing(4))) != nil)
            #expect(throws: (any Error).self) { try store.insertRequest(records[0]) }  // the id exists
            #expect((try? store.updateRequest(processing(5))) != nil)
        }
        let other = try Database(path: self.path)
        defer { other.close() }
        let statuses = try other.query("SELECT status FROM requests ORDER BY id") { $0.text(0) }
        #expect(statuses == Array(repeating: "processing", count: 6))
    }

    /// A request dispatched at once and one dispatched from its queue carry in `inference_request` the payload the
    /// file holds (taken as a value kept from the submission, not parsed again).
    @Test func dispatchedPayloadIsTheStoredOne() throws {
        let (store, core, user, space, worker) = try self.makeCore(slots: 1)
        defer { store.close() }
        let submitter = Submitter(userID: user.id, username: user.username, dailyQuota: 0)
        let records = try ["first \"quoted\"\n", "second ü"].map { prompt in
            try core.sync { try core.submit(Submission(prompt: prompt), spaceID: space.id, by: submitter, baseURL: "http://t") }
        }
        #expect(records.map(\.status) == [.processing, .queued])
        core.sync { core.result(from: "w", requestID: records[0].id, status: "completed", result: ["ok": true]) }
        let sent = worker.events.filter { $0.0 == "inference_request" }.map(\.1)
        #expect(sent.count == 2)
        for (message, record) in zip(sent, records) {
            let stored = try #require(try store.request(id: record.id))
            #expect(message["payload"] == (try JSONParser.parse(stored.payload)))
        }
        #expect(core.sync { core.queuedPayloads.isEmpty })
    }

    /// The status answer is written straight to bytes: the same bytes as the JSONObject it replaced.
    @Test func statusAnswerBytesAreThoseOfTheSummaryObject() throws {
        let records = [
            RequestRecord(id: "r\"1", spaceID: 3, userID: 2, username: "ädä\n", payload: "{\"prompt\":\"hi\"}",
                          status: .completed, result: "{\"text_output\":\"ok\"}", error: nil, token: "t", deliveries: 2,
                          workerID: "w", progress: 1, progressMessage: "done \u{1}", queueOrder: 5,
                          createdAt: 1_733_500_000.25, updatedAt: 1_733_500_001.5, startedAt: 1_733_500_000.75,
                          finishedAt: 1_733_500_001.5, baseURL: ""),
            RequestRecord(id: "r2", spaceID: 3, userID: 2, username: "u", payload: "not json",
                          status: .queued, result: nil, error: "x", token: "t", deliveries: 0, workerID: nil,
                          progress: 0.125, progressMessage: nil, queueOrder: 6, createdAt: 0, updatedAt: 0,
                          startedAt: nil, finishedAt: nil, baseURL: ""),
        ]
        for (record, position) in zip(records, [nil, 4]) {
            var object = RequestRoutes.summary(record, position: position)
            object["success"] = true
            object["username"] = .string(record.username)
            object["payload"] = (try? JSONParser.parse(record.payload)) ?? .null
            object["result"] = record.result.flatMap { try? JSONParser.parse($0) } ?? .null
            #expect(String(decoding: RequestRoutes.statusJSON(record, position: position), as: UTF8.self)
                    == String(decoding: JSONSerializer.serialize(.object(object)), as: UTF8.self))
            // The submit answer, against the object it was built as before.
            let submitted: JSONValue = [
                "success": true, "request_id": .string(record.id), "status": .string(record.status.rawValue),
                "queue_position": position.map { .int(Int64($0)) } ?? .null,
            ]
            #expect(String(decoding: RequestRoutes.submitJSON(record, position: position), as: UTF8.self)
                    == String(decoding: JSONSerializer.serialize(submitted), as: UTF8.self))
        }
    }
}

/// The host a worker's URLs are built from keeps letters, digits and `.-:[]_` only, whether checked as bytes
/// (plain ASCII) or as characters.
@Test func safeHostKeepsWhatURLsAllow() {
    #expect(SpacesSite.safeHost("127.0.0.1:8080") == "127.0.0.1:8080")
    #expect(SpacesSite.safeHost("[::1]:80") == "[::1]:80")
    #expect(SpacesSite.safeHost("evil.com/x?y#z\"<>") == "evil.comxyz")
    #expect(SpacesSite.safeHost("bücher.de:1") == "bücher.de:1")
    #expect(SpacesSite.safeHost("") == "")
}
