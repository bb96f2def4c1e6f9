import Dispatch
import Foundation
import SocketIO
import Synchronization
import Testing
@testable import SpacesApp

/// A worker that, when told of a request, reads its row through a connection of its own: what it finds is what
/// the file held at that moment.
private final class FileCheckingWorker: WorkerChannel {
    let id = "w"
    private let path: String
    private let seen = Mutex<[(id: String, status: String?)]>([])

    init(path: String) { self.path = path }

    func send(_ event: String, _ value: JSONValue) {
        guard event == "inference_request", let requestID = value["request_id"]?.stringValue else { return }
        let status = try? Database(path: self.path).queryFirst("SELECT status FROM requests WHERE id = ?", requestID) {
            $0.text(0)
        }
        self.seen.withLock { $0.append((requestID, status)) }
    }

    func disconnect() {}

    var requests: [(id: String, status: String?)] { self.seen.withLock { $0 } }
}

/// Group commit on SQLite (SpacesCore+Durability): submissions waiting on the core's queue share one commit, a
/// worker hears of a request only once its row is in the file, and a row that cannot be saved is answered with
/// its error while the others of the same commit go through.
@Suite final class GroupCommitTests {
    private let directory: String

    init() throws {
        self.directory = NSTemporaryDirectory() + "spaces-group-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: self.directory + "/uploads", withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    private var path: String { self.directory + "/db.sqlite3" }

    /// Submits `prompts` as jobs queued behind a held job, so that they run one after the other in one go; returns
    /// the answers, in order, once all came (bounded wait).
    private func submitTogether(_ prompts: [String], core: SpacesCore, user: User, spaceID: Int64)
        throws -> [Result<RequestRecord, APIError>]
    {
        let gate = DispatchSemaphore(value: 0)
        core.post { gate.wait() }
        let answers = Mutex<[Int: Result<RequestRecord, APIError>]>([:])
        let submitter = Submitter(userID: user.id, username: user.username, dailyQuota: 0)
        for (index, prompt) in prompts.enumerated() {
            core.post {
                core.submit(Submission(prompt: prompt), spaceID: spaceID, by: submitter, baseURL: "http://test") { answer in
                    answers.withLock { $0[index] = answer }
                }
            }
        }
        gate.signal()
        let deadline = Date().addingTimeInterval(10)
        while answers.withLock({ $0.count }) < prompts.count && Date() < deadline { usleep(1000) }
        let all = answers.withLock { $0 }
        try #require(all.count == prompts.count, "every submission answered within 10 s")
        return prompts.indices.compactMap { all[$0] }
    }

    /// A core on a new SQLite store, a user, and a space with a worker of 8 slots registered.
    private func makeCore() throws -> (SQLiteStore, SpacesCore, User, Space, FileCheckingWorker) {
        let store = try SQLiteStore(path: self.path)
        let core = SpacesCore(store: store, options: CoreOptions(uploadsDirectory: self.directory + "/uploads"))
        try core.sync { try core.start() }
        let user = try store.createUser(username: "ada", passwordHash: "h", isAdmin: false, now: 1)
        let space = try store.createSpace(Space(name: "Echo", cardType: .websockets, enablePrompt: true, maxConcurrency: 8))
        let worker = FileCheckingWorker(path: self.path)
        core.sync { core.register(worker, RegistrationRequest(spaceName: "Echo", concurrency: 8)) }
        return (store, core, user, space, worker)
    }

    @Test func submissionsWaitingOnTheQueueShareOneCommitAndAreDispatchedOnlyOnceCommitted() throws {
        let (store, core, user, space, worker) = try self.makeCore()
        defer { store.close() }

        let before = core.sync { store.db.gatheringsOpened }
        let answers = try self.submitTogether(["a", "b", "c", "d"], core: core, user: user, spaceID: space.id)
        let records = try answers.map { try $0.get() }
        #expect(core.sync { store.db.gatheringsOpened } - before == 1, "four submissions, one commit")
        #expect(records.allSatisfy { $0.status == .processing })
        #expect(worker.requests.map(\.id) == records.map(\.id))
        #expect(worker.requests.allSatisfy { $0.status == "processing" }, "each row was in the file when sent: \(worker.requests)")
    }

    @Test func aRowThatCannotBeSavedIsAnsweredWithItsErrorAndTheOthersGoThrough() throws {
        let (store, core, user, space, worker) = try self.makeCore()
        defer { store.close() }
        // A request with "boom" in its prompt breaks a deferred foreign key: its INSERT succeeds, and the COMMIT
        // holding it fails, as a full disk fails a commit; made again on its own, that INSERT fails alone.
        let other = try Database(path: self.path)
        try other.execute("""
            CREATE TABLE boom (space_id INTEGER REFERENCES spaces(id) DEFERRABLE INITIALLY DEFERRED);
            CREATE TRIGGER boom_on_insert AFTER INSERT ON requests WHEN NEW.payload LIKE '%boom%'
            BEGIN INSERT INTO boom VALUES (-1); END;
            """)
        other.close()

        let answers = try self.submitTogether(["fine", "boom", "also fine"], core: core, user: user, spaceID: space.id)
        let saved = [answers[0], answers[2]].compactMap { try? $0.get() }
        #expect(saved.count == 2)
        guard case .failure(let error) = answers[1] else {
            Issue.record("the unsaved submission was answered \(answers[1])")
            return
        }
        #expect(error.status == 500 && error.code == "storage_error")
        #expect(worker.requests.map(\.id) == saved.map(\.id), "only saved requests reach the worker")
        #expect(worker.requests.allSatisfy { $0.status == "processing" })
        // The slot of the unsaved one is free again: 8 slots, 2 held.
        #expect(core.sync { core.processingCount(spaceID: space.id) } == 2)
        #expect(core.sync { core.inFlight.count } == 2)
    }

    /// A transaction asked for while writes are gathered (deleting a space) becomes a savepoint: its throw undoes
    /// its own writes only, and what was gathered before commits.
    @Test func aTransactionInsideTheGatheringUndoesOnlyItsOwnWrites() throws {
        let store = try SQLiteStore(path: self.path)
        defer { store.close() }
        let opened = Mutex(0)
        store.gatheringOpened = { opened.withLock { $0 += 1 } }
        store.openGathering()
        try store.setDailyQuota(userID: try store.createUser(username: "ada", passwordHash: "h", isAdmin: false, now: 1).id, 3)
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try store.transaction {
                _ = try store.createUser(username: "bob", passwordHash: "h", isAdmin: false, now: 1)
                throw Boom()
            }
        }
        #expect(store.isGathering, "still one transaction")
        #expect(store.commitGathered().isEmpty)
        #expect(opened.withLock { $0 } == 1)
        let other = try Database(path: self.path)
        defer { other.close() }
        let users = try other.query("SELECT username, daily_quota FROM users ORDER BY id") { "\($0.text(0)):\($0.int(1))" }
        #expect(users == ["ada:3"])
    }
}
