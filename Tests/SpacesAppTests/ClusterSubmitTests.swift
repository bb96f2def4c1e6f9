import Foundation
import Synchronization
import Testing
@testable import SpacesApp

/// Submissions on PostgreSQL commit off the core's queue: a slow commit delays only its own answer, a request
/// reaches a worker only once its row is committed, and every submission answered is in the database.
@Suite final class ClusterSubmitTests {
    private let directory: String

    init() throws {
        self.directory = NSTemporaryDirectory() + "spaces-submit-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: self.directory + "/uploads", withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    /// A started core on the database at `url`, with one websockets space per name, each with a worker of
    /// concurrency `concurrency`.
    private struct Fixture {
        let core: SpacesCore
        let spaces: [Int64]
        let workers: [FakeWorker]
    }

    private func makeCore(url: String, spaces names: [String], concurrency: Int = 1) throws -> Fixture {
        let core = SpacesCore(store: try PostgresStore(url: url), options: CoreOptions(uploadsDirectory: self.directory + "/uploads"))
        core.nodeID = "submit-test-\(UUID().uuidString.prefix(8))"
        try core.sync { try core.start() }
        var ids: [Int64] = [], workers: [FakeWorker] = []
        for name in names {
            let space = try core.sync {
                try core.store.createSpace(Space(name: name, cardType: .websockets, enablePrompt: true, maxConcurrency: concurrency))
            }
            let worker = FakeWorker("w-\(name)")
            core.sync { core.register(worker, RegistrationRequest(spaceName: name, concurrency: concurrency)) }
            #expect(worker.lastResponse?["success"] == true)
            ids.append(space.id)
            workers.append(worker)
        }
        return Fixture(core: core, spaces: ids, workers: workers)
    }

    private func stop(_ core: SpacesCore) {
        core.sync {
            core.beginDraining()
            core.requeueInFlight()
        }
        core.store.close()
    }

    /// Submits through the asynchronous path the HTTP route takes; returns when `done` was called.
    private static func submit(_ core: SpacesCore, _ spaceID: Int64, prompt: String, user: Int64 = 1) async
        -> Result<RequestRecord, APIError>
    {
        await withCheckedContinuation { continuation in
            core.post {
                core.submit(Submission(prompt: prompt), spaceID: spaceID,
                            by: Submitter(userID: user, username: "u\(user)", dailyQuota: 0), baseURL: "http://test") {
                    continuation.resume(returning: $0)
                }
            }
        }
    }

    /// Runs `sql` on the database at `url` (a trigger that makes some commits slow or fail, as a real one can).
    private static func execute(_ sql: String, url: String) throws {
        let pool = PostgresPool(url: url, size: 1)
        defer { pool.close() }
        try pool.execute(sql)
    }

    /// A trigger on `requests` that runs `action` for rows whose payload contains `marker`.
    private static func installTrigger(url: String, marker: String, action: String) throws {
        try self.execute("""
            CREATE FUNCTION test_submit_hook() RETURNS trigger AS $$
            BEGIN
                IF NEW.payload LIKE '%\(marker)%' THEN \(action); END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER test_submit_hook BEFORE INSERT ON requests FOR EACH ROW EXECUTE FUNCTION test_submit_hook();
            """, url: url)
    }

    /// Ids of `requests` rows, read on a connection of its own (what another node would see).
    private static func storedIDs(url: String) throws -> Set<String> {
        let pool = PostgresPool(url: url, size: 1)
        defer { pool.close() }
        return Set(try pool.query("SELECT id FROM requests") { $0.text(0) })
    }

    private struct TimedOut: Error {}

    /// Polls `condition` for up to 10 s.
    private static func waitUntil(_ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(10)
        while !condition() {
            guard Date() < deadline else { throw TimedOut() }
            usleep(5_000)
        }
    }

    // A regression that commits on the core's queue would hang the fast submits behind the lock: bounded.
    @Test(.timeLimit(.minutes(1))) func aSlowCommitDoesNotDelayOtherSpacesDispatchOrResults() async throws {
        let url = try SharedPostgres.get().createDatabase()
        let fixture = try self.makeCore(url: url, spaces: ["Slow", "Fast"])
        let core = fixture.core, spaces = fixture.spaces, workers = fixture.workers
        defer { self.stop(core) }
        // The marked insert waits for a lock the test holds: a commit as slow as the test wants, without timing
        // (20 s at most: a regression that waits for it on the core's queue fails the test rather than hanging).
        try Self.installTrigger(url: url, marker: "slow-commit",
                                action: "PERFORM set_config('lock_timeout', '20s', true); PERFORM pg_advisory_xact_lock(4242)")
        let holder = PostgresPool(url: url, size: 1)
        defer { holder.close() }
        _ = try holder.query("SELECT pg_advisory_lock(4242)") { _ in 0 }

        let slowSpace = spaces[0]
        let slow = Task { [core] in await ClusterSubmitTests.submit(core, slowSpace, prompt: "slow-commit") }
        try Self.waitUntil { !core.sync { core.submitCommits.isIdle } }
        // Submit, dispatch and result of the other space, several times over, while the slow commit waits.
        for round in 0..<5 {
            let fast = try await Self.submit(core, spaces[1], prompt: "fast \(round)").get()
            #expect(workers[1].requestIDs.last == fast.id, "dispatched at once")
            core.sync { core.result(from: workers[1].id, requestID: fast.id, status: "completed", result: ["ok": true]) }
            #expect(core.sync { try? core.store.request(id: fast.id) }??.status == .completed)
        }
        #expect(!core.sync { core.submitCommits.isIdle }, "the slow commit is still waiting")
        #expect(workers[0].requestIDs.isEmpty, "no dispatch before the row is committed")

        _ = try holder.query("SELECT pg_advisory_unlock(4242)") { _ in 0 }
        let slowRecord = try await slow.value.get()
        #expect(workers[0].requestIDs == [slowRecord.id], "dispatched once committed")
        #expect(try Self.storedIDs(url: url).contains(slowRecord.id))
    }

    @Test func concurrentSubmitsAreAllDurableAndFillEverySlotOnce() async throws {
        let url = try SharedPostgres.get().createDatabase()
        let fixture = try self.makeCore(url: url, spaces: ["A", "B"], concurrency: 4)
        let core = fixture.core, spaces = fixture.spaces, workers = fixture.workers
        defer { self.stop(core) }
        let results = await withTaskGroup(of: Result<RequestRecord, APIError>.self) { group in
            for n in 0..<60 {
                group.addTask { await Self.submit(core, spaces[n % 2], prompt: "p\(n)", user: Int64(1 + n % 3)) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let accepted = results.compactMap { try? $0.get() }
        #expect(accepted.count == 60)
        #expect(try Self.storedIDs(url: url) == Set(accepted.map(\.id)), "every answered submission is stored")
        for (index, worker) in workers.enumerated() {
            let sent = worker.requestIDs
            #expect(sent.count == 4, "the worker's 4 slots filled, no more")
            #expect(Set(sent).count == sent.count)
            let stored = core.sync { sent.compactMap { try? core.store.request(id: $0) } }
            #expect(stored.allSatisfy { $0.status == .processing && $0.spaceID == spaces[index] })
        }
        #expect(core.sync { core.reservedSlots.isEmpty })
    }

    @Test func aFailingSubmitDoesNotFailTheOthersNorKeepItsSlot() async throws {
        let url = try SharedPostgres.get().createDatabase()
        let fixture = try self.makeCore(url: url, spaces: ["Echo"], concurrency: 2)
        let core = fixture.core, spaces = fixture.spaces, workers = fixture.workers
        defer { self.stop(core) }
        try Self.installTrigger(url: url, marker: "fail-commit", action: "RAISE EXCEPTION 'refused by the test'")

        // The failing one first: it reserves a slot, which must come back.
        let failing = await Self.submit(core, spaces[0], prompt: "fail-commit")
        let results = await withTaskGroup(of: Result<RequestRecord, APIError>.self) { group in
            for n in 0..<8 { group.addTask { await Self.submit(core, spaces[0], prompt: "ok \(n)") } }
            group.addTask { await Self.submit(core, spaces[0], prompt: "fail-commit again") }
            return await group.reduce(into: []) { $0.append($1) }
        }
        guard case .failure(let error) = failing else {
            Issue.record("a refused commit was answered as accepted")
            return
        }
        #expect(error.status == 500 && error.code == "storage_error")
        let accepted = results.compactMap { try? $0.get() }
        #expect(accepted.count == 8)
        #expect(results.count - accepted.count == 1)
        #expect(try Self.storedIDs(url: url) == Set(accepted.map(\.id)))
        #expect(workers[0].requestIDs.count == 2, "both slots in use: the failed submissions freed theirs")
        #expect(core.sync { core.reservedSlots.isEmpty })
    }

    @Test func aSubmitDuringAnOutageGets503AndNothingAcceptedIsLost() async throws {
        // A server of its own: the shared one must stay up for the other tests.
        let server = try PostgresTestServer()
        defer { server.destroy() }
        let url = try server.createDatabase()
        let fixture = try self.makeCore(url: url, spaces: ["Echo"])
        let core = fixture.core, spaces = fixture.spaces
        defer { self.stop(core) }
        let before = try await Self.submit(core, spaces[0], prompt: "before").get()

        server.stop()
        let during = await Self.submit(core, spaces[0], prompt: "during")
        guard case .failure(let error) = during else {
            Issue.record("a submit was accepted while PostgreSQL was down")
            return
        }
        #expect(error.status == 503)
        #expect(error.response.headers["Retry-After"] != nil)
        #expect(error.body["error"]?.stringValue?.isEmpty == false && error.body["code"]?.stringValue?.isEmpty == false)

        try server.start()
        var after: RequestRecord?
        try Self.waitUntil {
            after = try? Self.submitBlocking(core, spaces[0], prompt: "after")
            return after != nil
        }
        let stored = try Self.storedIDs(url: url)
        #expect(stored.contains(before.id))
        #expect(after.map { stored.contains($0.id) } == true)
    }

    /// The blocking submit (tests and tools), for polling after a restart.
    private static func submitBlocking(_ core: SpacesCore, _ spaceID: Int64, prompt: String) throws -> RequestRecord {
        try core.sync {
            try core.submit(Submission(prompt: prompt), spaceID: spaceID,
                            by: Submitter(userID: 1, username: "u1", dailyQuota: 0), baseURL: "http://test")
        }
    }
}

extension ClusterSubmitTests {
    /// A node without a worker of its own reuses another node's "a worker serves this space" for a second,
    /// and never reuses a no: a worker that registers elsewhere takes the very next submit.
    @Test(.timeLimit(.minutes(1))) func aWorkerElsewhereIsAskedAboutOncePerSecondAndANoIsNotReused() async throws {
        let url = try SharedPostgres.get().createDatabase()
        let other = try self.makeCore(url: url, spaces: ["Remote"])
        defer { self.stop(other.core) }
        let here = try self.makeCore(url: url, spaces: [])
        defer { self.stop(here.core) }
        let now = Mutex(Date().timeIntervalSince1970)
        here.core.sync { here.core.clock = { now.withLock { $0 } } }
        let space = other.spaces[0]

        _ = try await Self.submit(here.core, space, prompt: "first").get()
        // The registration goes from the database (what another node's worker leaving does) ...
        try Self.execute("DELETE FROM worker_registrations", url: url)
        // ... and within the second this node does not ask again: accepted, the request waits in the queue.
        let within = try await Self.submit(here.core, space, prompt: "within").get()
        #expect(within.status == .queued)

        now.withLock { $0 += 1.5 }
        let refused = await Self.submit(here.core, space, prompt: "after")
        guard case .failure(let error) = refused else {
            Issue.record("accepted with no worker anywhere: \(refused)")
            return
        }
        #expect(error.code == "no_worker" && error.status == 503)

        let again = FakeWorker("w-again")
        other.core.sync { other.core.register(again, RegistrationRequest(spaceName: "Remote", concurrency: 1)) }
        #expect(again.lastResponse?["success"] == true)
        _ = try await Self.submit(here.core, space, prompt: "again").get()
    }
}
