import Dispatch
import Foundation
import Testing
@testable import SpacesApp

/// The PostgreSQL backend's own behaviour: an outage gives typed errors (and a 503 at submit), the pool
/// reconnects when the server is back, and a full pool makes callers wait a bounded time.
@Suite struct PostgresPoolTests {
    @Test func outageFailsAsUnavailableThenTheStoreReconnects() throws {
        // A server of its own: it is stopped mid-test.
        let server = try PostgresTestServer()
        defer { server.destroy() }
        let store = try PostgresStore(url: try server.createDatabase())
        defer { store.close() }
        let directory = NSTemporaryDirectory() + "spaces-outage-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let core = SpacesCore(store: store, options: CoreOptions(uploadsDirectory: directory))
        try core.sync { try core.start() }
        let echo = try store.createSpace(Space(name: "Echo", cardType: .websockets, enablePrompt: true, maxConcurrency: 2))
        let worker = FakeWorker("w")
        core.sync { core.register(worker, RegistrationRequest(spaceName: "Echo", concurrency: 2)) }
        let submitter = Submitter(userID: 1, username: "u", dailyQuota: 5)
        let before = try core.sync { try core.submit(Submission(prompt: "before"), spaceID: echo.id, by: submitter, baseURL: "") }

        server.stop()
        let failure = #expect(throws: (any Error).self) { try store.request(id: before.id) }
        #expect((failure as? any StoreFailure)?.kind == .unavailable, "got \(String(describing: failure))")
        let refused = core.sync { () -> APIError? in
            do {
                _ = try core.submit(Submission(prompt: "during"), spaceID: echo.id, by: submitter, baseURL: "")
                return nil
            } catch {
                return error as? APIError
            }
        }
        #expect(refused == APIError.databaseUnavailable())
        #expect(refused?.status == 503)
        #expect(refused?.response.headers["Retry-After"] == "5")

        try server.start()
        let after = try core.sync { try core.submit(Submission(prompt: "after"), spaceID: echo.id, by: submitter, baseURL: "") }
        #expect(worker.requestIDs == [before.id, after.id])
        #expect(try store.request(id: before.id)?.status == .processing, "what was accepted before is kept")
        core.sync { core.result(from: "w", requestID: before.id, status: "completed", result: "done") }
        #expect(try store.request(id: before.id)?.status == .completed)
    }

    @Test func aFullPoolMakesCallersWaitABoundedTime() throws {
        let url = try SharedPostgres.get().createDatabase()
        let pool = PostgresPool(url: url, size: 1, checkoutTimeout: 0.3)
        defer { pool.close() }
        try pool.execute("SELECT 1")
        let holding = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            try? pool.transaction {
                holding.signal()
                release.wait()
            }
            done.signal()
        }
        holding.wait()
        let started = Date()
        let failure = #expect(throws: PostgresError.self) { try pool.execute("SELECT 1") }
        #expect(failure?.kind == .unavailable)
        #expect(Date().timeIntervalSince(started) >= 0.25)
        release.signal()
        done.wait()
        #expect(throws: Never.self) { try pool.execute("SELECT 1") }
    }

    @Test func serverErrorsCarryTheirSQLState() throws {
        let connection = try PostgresConnection(url: try SharedPostgres.get().createDatabase())
        let failure = #expect(throws: PostgresError.self) { try connection.execute("SELECT * FROM no_such_table") }
        #expect(failure?.sqlState == "42P01")
        #expect(failure?.kind == .failed)
        #expect(failure?.message.contains("no_such_table") == true)
        let refused = #expect(throws: PostgresError.self) {
            try PostgresConnection(url: "postgres://nobody:wrong@127.0.0.1:1/x", connectTimeoutSeconds: 1)
        }
        #expect(refused?.kind == .unavailable)
    }
}
