import Foundation
import Testing
@testable import SpacesApp

/// Status reads that wait for the core's queue together are read together: on PostgreSQL one statement for all
/// of them, with the same answers as one read each.
@Suite final class RequestReadBatchTests {
    private let directory: String

    init() throws {
        self.directory = NSTemporaryDirectory() + "spaces-reads-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: self.directory + "/uploads", withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    private static func record(space: Int64, user: Int64, _ n: Int) -> RequestRecord {
        RequestRecord(id: "r\(n)-\(UUID().uuidString)", spaceID: space, userID: user, username: "ada", payload: "{}",
                      status: .queued, result: nil, error: nil, token: "t", deliveries: 0, workerID: nil, progress: nil,
                      progressMessage: nil, queueOrder: 0, createdAt: 100, updatedAt: 100, startedAt: nil, finishedAt: nil)
    }

    /// A store on `store`'s database with one space, one user and `count` queued requests (ids in queue order).
    private static func fill(_ store: any SpacesStore, count: Int) throws -> (spaceID: Int64, ids: [String]) {
        let space = try store.createSpace(Space(name: "Echo", cardType: .websockets, enablePrompt: true))
        let user = try store.createUser(username: "ada", passwordHash: "h", isAdmin: false, now: 1)
        var ids: [String] = []
        for n in 0..<count {
            var record = Self.record(space: space.id, user: user.id, n)
            if let cluster = store as? PostgresStore {
                let open = SubmissionRules(rateLimitSeconds: 0, dailyQuota: 0, dayStart: 0)
                _ = try cluster.acceptRequest(record, rules: open, wake: "q \(space.id) test")
            } else {
                record.queueOrder = Int64(n + 1)
                try store.insertRequest(record)
            }
            ids.append(record.id)
        }
        return (space.id, ids)
    }

    /// Ids that are not requests, shaped to break a badly quoted array literal: one would read as two ids, one of
    /// them a real request's.
    private static func strangers(_ real: String) -> [String] {
        ["missing", "x\",\"\(real)", "a\\b", "{}", ",", "\"", "", "nul\u{0}\",\"\(real)"]
    }

    @Test func postgresReadsManyRequestsInOneStatementPerSliceAndQuotesEveryID() throws {
        let url = try SharedPostgres.get().createDatabase()
        let store = try PostgresStore(url: url)
        defer { store.close() }
        let (spaceID, ids) = try Self.fill(store, count: 70)
        let claimed = try #require(try store.claimNext(spaceID: spaceID, workerID: "w", nodeID: "n", now: 200))
        #expect(claimed.id == ids[0])

        let before = store.db.borrowings.load(ordering: .relaxed)
        // The last request is not asked for: only a stranger's quotes could bring it in.
        let asked = Array(ids.dropLast())
        let found = try store.requests(ids: asked + Self.strangers(ids[69]))
        // 77 ids in slices of 64: two statements, whatever the strangers (a NUL, which libpq would cut the literal
        // at, is never sent).
        #expect(store.db.borrowings.load(ordering: .relaxed) - before == 2)
        #expect(Set(found.keys) == Set(asked))
        #expect(found[ids[0]]?.status == .processing && found[ids[0]]?.workerID == "w")
        #expect(asked.dropFirst().allSatisfy { found[$0]?.status == .queued })

        // Each queued request's position comes with it: asking for it takes no statement.
        let third = try #require(try store.requests(ids: [ids[3], ids[4]])[ids[3]])
        let afterRead = store.db.borrowings.load(ordering: .relaxed)
        #expect(try store.queuePosition(spaceID: spaceID, queueOrder: third.queueOrder) == 3)
        #expect(store.db.borrowings.load(ordering: .relaxed) == afterRead)
        #expect(try store.requests(ids: []).isEmpty)
    }

    /// Status reads issued while the core's queue is busy, then let through.
    private static func readWhileBusy(_ core: SpacesCore, ids: [String]) async throws -> [String: RequestRecord?] {
        let gate = DispatchSemaphore(value: 0)
        core.queue.async { _ = gate.wait(timeout: .now() + 30) }
        return try await withThrowingTaskGroup(of: (String, RequestRecord?).self) { group in
            for id in ids {
                group.addTask {
                    let record: RequestRecord? = try await withCheckedThrowingContinuation { continuation in
                        core.withRequest(id: id, { $0 }, completion: { continuation.resume(with: $0) })
                    }
                    return (id, record)
                }
            }
            // Every read is waiting (not yet answered) before the queue goes on.
            let deadline = Date().addingTimeInterval(10)
            while core.requestReads.waitingCount < ids.count && Date() < deadline {
                try await Task.sleep(for: .milliseconds(2))
            }
            #expect(core.requestReads.waitingCount == ids.count)
            gate.signal()
            var answers: [String: RequestRecord?] = [:]
            for try await (id, record) in group { answers[id] = record }
            return answers
        }
    }

    @Test func postgresStatusReadsThatWaitTogetherTakeOneStatement() async throws {
        let url = try SharedPostgres.get().createDatabase()
        let store = try PostgresStore(url: url)
        defer { store.close() }
        let (_, ids) = try Self.fill(store, count: 5)
        let core = SpacesCore(store: store, options: CoreOptions(uploadsDirectory: self.directory + "/uploads"))
        let asked = ids + [ids[2], "missing"]

        let before = store.db.borrowings.load(ordering: .relaxed)
        let answers = try await Self.readWhileBusy(core, ids: asked)
        #expect(store.db.borrowings.load(ordering: .relaxed) - before == 1)
        for id in ids { #expect(answers[id]??.id == id && answers[id]??.status == .queued) }
        #expect(answers.keys.contains("missing") && answers["missing"]! == nil)
    }

    @Test func sqliteStatusReadsThatWaitTogetherGetTheirOwnRecords() async throws {
        let store = try SQLiteStore(path: self.directory + "/spaces.db")
        defer { store.close() }
        let (_, ids) = try Self.fill(store, count: 4)
        let core = SpacesCore(store: store, options: CoreOptions(uploadsDirectory: self.directory + "/uploads"))
        let answers = try await Self.readWhileBusy(core, ids: ids + ["x\",\"\(ids[0])"])
        for id in ids { #expect(answers[id]??.id == id) }
        #expect(answers["x\",\"\(ids[0])"]! == nil)
    }
}
