import SocketIO
import Synchronization
import Foundation
import Testing
@testable import SpacesApp

/// A worker that records what the core sends it.
final class FakeWorker: WorkerChannel {
    let id: String
    private let log = Mutex<[(String, JSONValue)]>([])
    private let disconnected = Atomic<Bool>(false)

    init(_ id: String) { self.id = id }

    func send(_ event: String, _ value: JSONValue) { self.log.withLock { $0.append((event, value)) } }
    func disconnect() { self.disconnected.store(true, ordering: .relaxed) }

    var events: [(String, JSONValue)] { self.log.withLock { $0 } }
    var wasDisconnected: Bool { self.disconnected.load(ordering: .relaxed) }
    var requestIDs: [String] {
        self.events.filter { $0.0 == "inference_request" }.compactMap { $0.1["request_id"]?.stringValue }
    }
    var lastResponse: JSONValue? { self.events.last { $0.0 == "register_response" }?.1 }
}

/// The core's queue and dispatch over the store; the tests that touch the store run against both backends.
@Suite final class QueueTests {
    private let directory: String
    /// The store the test's cores open (set by `makeCore(_:)`; a restarted core reopens the same one).
    private var location: DatabaseLocation?

    init() throws {
        self.directory = NSTemporaryDirectory() + "spaces-core-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: self.directory + "/uploads", withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    /// A started core on a fresh store of `backend` (the first call), or on the same store again (later calls).
    private func makeCore(_ backend: Backend) throws -> SpacesCore {
        let location = try self.location ?? backend.freshLocation(directory: self.directory)
        self.location = location
        let core = SpacesCore(store: try location.open(), options: CoreOptions(uploadsDirectory: self.directory + "/uploads"))
        // One node id, as a server keeps in its data folder: on PostgreSQL a restarted core releases at once
        // what its previous run held.
        core.nodeID = "queue-test-node"
        try core.sync { try core.start() }
        return core
    }

    private func space(_ core: SpacesCore, _ name: String = "Echo", configure: (inout Space) -> Void = { _ in }) throws -> Space {
        var space = Space(name: name, cardType: .websockets, enablePrompt: true)
        configure(&space)
        return try core.sync { try core.store.createSpace(space) }
    }

    private func submit(_ core: SpacesCore, _ spaceID: Int64, user: Int64 = 1, prompt: String = "hi") throws -> RequestRecord {
        try core.sync {
            try core.submit(Submission(prompt: prompt), spaceID: spaceID,
                            by: Submitter(userID: user, username: "u\(user)", dailyQuota: 0), baseURL: "http://test")
        }
    }

    private func status(_ core: SpacesCore, _ id: String) -> RequestRecord? {
        core.sync { try? core.store.request(id: id) }
    }

    @Test func lifecycleTransitions() {
        #expect(RequestLifecycle.next(.queued, on: .dispatch) == .processing)
        #expect(RequestLifecycle.next(.queued, on: .cancel) == .canceled)
        #expect(RequestLifecycle.next(.processing, on: .result(success: true)) == .completed)
        #expect(RequestLifecycle.next(.processing, on: .result(success: false)) == .failed)
        #expect(RequestLifecycle.next(.processing, on: .timeout) == .timeout)
        #expect(RequestLifecycle.next(.processing, on: .workerLost(deliveries: 2, maxDeliveries: 3)) == .queued)
        #expect(RequestLifecycle.next(.processing, on: .workerLost(deliveries: 3, maxDeliveries: 3)) == .failed)
        for final in [RequestStatus.completed, .failed, .timeout, .canceled] {
            #expect(RequestLifecycle.next(final, on: .result(success: true)) == nil, "late results are ignored")
            #expect(RequestLifecycle.next(final, on: .cancel) == nil)
        }
        #expect(RequestLifecycle.next(.queued, on: .result(success: true)) == nil)
        #expect(RequestLifecycle.isSuccess(workerStatus: "completed"))
        #expect(!RequestLifecycle.isSuccess(workerStatus: "error"))
        #expect(!RequestLifecycle.isSuccess(workerStatus: nil))
    }

    @Test func fifoKeepsOrderAndPositions() {
        var fifo = RequestFIFO()
        fifo.insert(id: "c", order: 3)
        fifo.insert(id: "d", order: 4)
        #expect(fifo.popFirst() == "c")
        fifo.insert(id: "a", order: 1)  // back from a lost worker: to the head
        fifo.insert(id: "e", order: 5)
        #expect(fifo.ids == ["a", "d", "e"])
        #expect(fifo.position(id: "e", order: 5) == 3)
        let removed = fifo.remove(id: "d", order: 4)
        #expect(removed)
        #expect(fifo.position(id: "e", order: 5) == 2)
        #expect(fifo.position(id: "d", order: 4) == nil)
    }

    @Test(arguments: Backend.allCases)
    func registrationMessagesAndOrder(_ backend: Backend) throws {
        let core = try makeCore(backend)
        _ = try space(core)
        _ = try core.sync { try core.store.createSpace(Space(name: "Plain", cardType: .standard)) }
        let worker = FakeWorker("w1")
        core.sync { core.register(worker, RegistrationRequest(spaceName: nil)) }
        #expect(worker.lastResponse == ["success": false, "message": "space_name is required"])
        #expect(!worker.wasDisconnected)

        for name in ["Nope", "Plain"] {
            let refused = FakeWorker("r-\(name)")
            core.sync { core.register(refused, RegistrationRequest(spaceName: name)) }
            #expect(refused.lastResponse?["message"]?.stringValue == "Space \"\(name)\" not found or is not a WebSocket space")
            #expect(refused.wasDisconnected)
        }

        core.sync { core.register(worker, RegistrationRequest(spaceName: "Echo")) }
        #expect(worker.lastResponse?["success"] == true)
        core.sync { core.register(worker, RegistrationRequest(spaceName: "Echo")) }
        #expect(worker.lastResponse?["success"] == true, "registering again is idempotent")

        let second = FakeWorker("w2")
        core.sync { core.register(second, RegistrationRequest(spaceName: "Echo")) }
        #expect(second.lastResponse?["message"]?.stringValue == "Space already has a connected app")
        #expect(second.wasDisconnected)
        #expect(core.sync { core.workerCount(spaceID: 1) } == 1)
    }

    @Test(arguments: Backend.allCases)
    func workerTokenRequiredWhenSet(_ backend: Backend) throws {
        let core = try makeCore(backend)
        _ = try space(core) { $0.workerToken = "t0k" }
        let without = FakeWorker("a"), wrong = FakeWorker("b"), right = FakeWorker("c")
        core.sync {
            core.register(without, RegistrationRequest(spaceName: "Echo"))
            core.register(wrong, RegistrationRequest(spaceName: "Echo", token: "x"))
            core.register(right, RegistrationRequest(spaceName: "Echo", token: "t0k"))
        }
        #expect(without.lastResponse?["success"] == false)
        #expect(wrong.lastResponse?["success"] == false)
        #expect(right.lastResponse?["success"] == true)
    }

    @Test(arguments: Backend.allCases)
    func dispatchOnlyToFreeSlotsInFIFOOrder(_ backend: Backend) throws {
        let core = try makeCore(backend)
        let echo = try space(core) { $0.maxConcurrency = 2 }
        let worker = FakeWorker("w")
        core.sync { core.register(worker, RegistrationRequest(spaceName: "Echo", concurrency: 5)) }
        let records = try (0..<4).map { try submit(core, echo.id, prompt: "p\($0)") }
        #expect(worker.requestIDs == [records[0].id, records[1].id], "concurrency is capped by the space")
        #expect(status(core, records[2].id)?.status == .queued)
        let fourth = try #require(self.status(core, records[3].id))
        #expect(core.sync { core.queuePosition(fourth) } == 2)

        core.sync { core.result(from: "w", requestID: records[1].id, status: "completed", result: ["text_output": "ok"]) }
        #expect(status(core, records[1].id)?.status == .completed)
        #expect(worker.requestIDs.count == 3)
        #expect(worker.requestIDs.last == records[2].id)
    }

    /// Timeouts run on one timer armed for the earliest deadline (a timer per request stayed in memory until
    /// its deadline, long after the request finished): a request with a short timeout dispatched after one with
    /// a day's timeout still ends on time, and finished requests leave no deadline behind.
    @Test(arguments: Backend.allCases)
    func timeoutsEndOnTheirOwnDeadlinesAndFinishedRequestsKeepNone(_ backend: Backend) throws {
        let core = try makeCore(backend)
        let slow = try space(core, "Slow") { $0.timeoutSeconds = 86_400 }
        let quick = try space(core, "Quick") { $0.timeoutSeconds = 1 }
        let worker = FakeWorker("w")
        core.sync {
            core.register(worker, RegistrationRequest(spaceName: "Slow"))
            core.register(worker, RegistrationRequest(spaceName: "Quick"))
        }
        for index in 0..<50 {
            let record = try submit(core, slow.id, prompt: "p\(index)")
            core.sync { core.result(from: "w", requestID: record.id, status: "completed", result: "ok") }
            #expect(status(core, record.id)?.status == .completed)
        }
        #expect(core.sync { core.inFlight.isEmpty }, "finished requests keep no deadline")

        let held = try submit(core, slow.id, prompt: "held")
        let late = try submit(core, quick.id, prompt: "late")
        #expect(status(core, late.id)?.status == .processing)
        let deadline = Date().addingTimeInterval(10)
        while status(core, late.id)?.status == .processing && Date() < deadline { usleep(20_000) }
        #expect(status(core, late.id)?.status == .timeout)
        #expect(status(core, late.id)?.error == "The worker did not answer within 1 seconds")
        #expect(status(core, held.id)?.status == .processing, "the day-long timeout has not run out")
        #expect(core.sync { core.inFlight.keys.sorted() } == [held.id])
    }

    @Test(arguments: Backend.allCases)
    func onlyTheHolderMayCompleteAndLateResultsAreIgnored(_ backend: Backend) throws {
        let core = try makeCore(backend)
        let echo = try space(core)
        let worker = FakeWorker("w")
        core.sync { core.register(worker, RegistrationRequest(spaceName: "Echo")) }
        let record = try submit(core, echo.id)
        core.sync { core.result(from: "intruder", requestID: record.id, status: "completed", result: "forged") }
        #expect(status(core, record.id)?.status == .processing)
        core.sync { core.result(from: "w", requestID: record.id, status: "error", result: ["error": "boom"]) }
        #expect(status(core, record.id)?.status == .failed)
        #expect(status(core, record.id)?.error == "boom")
        core.sync { core.result(from: "w", requestID: record.id, status: "completed", result: "late") }
        #expect(status(core, record.id)?.status == .failed)
    }

    @Test(arguments: Backend.allCases)
    func lostWorkerRequeuesAtHeadThenFailsAfterThreeDeliveries(_ backend: Backend) throws {
        let core = try makeCore(backend)
        let echo = try space(core)
        let initial = FakeWorker("w0")
        core.sync { core.register(initial, RegistrationRequest(spaceName: "Echo")) }
        let first = try submit(core, echo.id, prompt: "first")
        let second = try submit(core, echo.id, prompt: "second")
        #expect(initial.requestIDs == [first.id])
        core.sync { core.workerGone(initial.id) }
        #expect(status(core, first.id)?.status == .queued)
        #expect(core.sync { core.queueSize(spaceID: echo.id) } == 2)
        for attempt in 2...3 {
            let worker = FakeWorker("w\(attempt)")
            core.sync { core.register(worker, RegistrationRequest(spaceName: "Echo")) }
            #expect(worker.requestIDs == [first.id], "the head is delivered again (attempt \(attempt))")
            core.sync { core.workerGone(worker.id) }
        }
        let failed = status(core, first.id)
        #expect(failed?.status == .failed)
        #expect(failed?.deliveries == 3)
        #expect(status(core, second.id)?.status == .queued)
        #expect(core.sync { core.workerCount(spaceID: echo.id) } == 0, "no ghost registrations")
    }

    @Test(arguments: Backend.allCases)
    func restartRecoveryRequeuesInFlightRequests(_ backend: Backend) throws {
        var core: SpacesCore? = try makeCore(backend)
        let echo = try space(core!)
        let worker = FakeWorker("w")
        core!.sync { core!.register(worker, RegistrationRequest(spaceName: "Echo")) }
        let held = try submit(core!, echo.id, prompt: "held")
        let waiting = try submit(core!, echo.id, prompt: "waiting")
        core!.sync { core!.store.close() }
        core = nil  // the server died with `held` processing

        let restarted = try makeCore(backend)
        #expect(status(restarted, held.id)?.status == .queued)
        #expect(restarted.sync { restarted.queueSize(spaceID: echo.id) } == 2)
        let next = FakeWorker("n")
        restarted.sync { restarted.register(next, RegistrationRequest(spaceName: "Echo")) }
        #expect(next.requestIDs == [held.id])
        restarted.sync { restarted.result(from: "n", requestID: held.id, status: "completed", result: nil) }
        #expect(next.requestIDs == [held.id, waiting.id])
    }

    @Test(arguments: Backend.allCases)
    func submitValidatesBeforeSpendingRateLimitAndQuota(_ backend: Backend) throws {
        let core = try makeCore(backend)
        let echo = try space(core) { $0.rateLimitSeconds = 60 }
        let submitter = Submitter(userID: 9, username: "u", dailyQuota: 2)
        func attempt(_ submission: Submission) -> APIError? {
            core.sync { () -> APIError? in
                do {
                    _ = try core.submit(submission, spaceID: echo.id, by: submitter, baseURL: "http://t")
                    return nil
                } catch {
                    return error as? APIError
                }
            }
        }
        #expect(attempt(Submission(prompt: "x"))?.code == "no_worker")
        core.sync { core.register(FakeWorker("w"), RegistrationRequest(spaceName: "Echo")) }
        #expect(attempt(Submission())?.code == "empty_request")
        #expect(attempt(Submission(audioURL: "http://x/a.wav"))?.code == "input_not_enabled")
        #expect(attempt(Submission(prompt: "ok")) == nil)
        let limited = attempt(Submission(prompt: "again"))
        #expect(limited?.status == 429)
        #expect(limited?.extra["retry_after"] == 60)
    }

    @Test func submissionValidation() {
        var space = Space(name: "S", cardType: .websockets, enablePrompt: true, enableAudio: true)
        space.maxUploadBytes = 10
        #expect(throws: Never.self) { try Submission(prompt: "hi").validate(for: space) }
        #expect(throws: Never.self) { try Submission(audioURL: "https://example.com/a.mp3").validate(for: space) }
        #expect(throws: (any Error).self) { try Submission(audioURL: "javascript:alert(1)").validate(for: space) }
        let big = SubmittedFile(field: "audio_file", filename: "a", contentType: "audio/wav", path: "/dev/null", size: 11)
        #expect(self.code { try Submission(files: [big]).validate(for: space) } == "file_too_large")
        let other = SubmittedFile(field: "other_file", filename: "a", contentType: "x", path: "/dev/null", size: 1)
        #expect(self.code { try Submission(files: [other]).validate(for: space) } == "input_not_enabled")
        #expect(self.code { try Submission(prompt: String(repeating: "x", count: 100_001)).validate(for: space) } == "prompt_too_long")
        #expect(Submission.safeFileName("../../etc/passwd") == "passwd")
        #expect(Submission.safeFileName(".hidden name.txt") == "hidden_name.txt")
        #expect(Submission.safeFileName("") == "file")
    }

    @Test(arguments: Backend.allCases)
    func promptAndAudioURLReachTheWorkerExactlyAsTyped(_ backend: Backend) throws {
        let core = try makeCore(backend)
        let echo = try space(core) {
            $0.enableAudio = true
            $0.maxConcurrency = 2
        }
        let worker = FakeWorker("w")
        core.sync { core.register(worker, RegistrationRequest(spaceName: "Echo", concurrency: 3)) }
        let code = "  def f():\n    return 1\n\n"
        let verse = "\r\n\tfirst line\r\n  second line  \r\n"
        let submitter = Submitter(userID: 1, username: "u1", dailyQuota: 0)
        for submission in [Submission(prompt: code), Submission(prompt: verse, audioURL: "https://example.com/a.mp3?q=1")] {
            _ = try core.sync { try core.submit(submission, spaceID: echo.id, by: submitter, baseURL: "http://t") }
        }
        let payloads = worker.events.filter { $0.0 == "inference_request" }.map { $0.1["payload"] }
        #expect(payloads.count == 2)
        #expect(payloads.first??["prompt"]?.stringValue.map { Array($0.utf8) } == Array(code.utf8))
        #expect(payloads.last??["prompt"]?.stringValue.map { Array($0.utf8) } == Array(verse.utf8))
        #expect(payloads.last??["audio"]?.stringValue == "https://example.com/a.mp3?q=1")
    }

    @Test func whitespaceOnlyFieldsCountAsEmpty() {
        let space = Space(name: "S", cardType: .websockets, enablePrompt: false, enableAudio: false)
        #expect(self.code { try Submission(prompt: " \n\t ", audioURL: "\r\n").validate(for: space) } == "empty_request")
        #expect(self.code { try Submission(prompt: "\n x").validate(for: space) } == "input_not_enabled")
        var open = space
        open.enableAudio = true
        // Forwarded as sent, so checked as sent: a URL wrapped in spaces is not a URL.
        #expect(self.code { try Submission(audioURL: " https://example.com/a.mp3\n").validate(for: open) } == "invalid_audio_url")
        #expect(self.code { try Submission(prompt: String(repeating: " ", count: 100_001)).validate(for: open) } == "prompt_too_long")
    }

    private func code(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as APIError {
            return error.code
        } catch {
            return "other"
        }
    }

    @Test func htmlEscaping() {
        #expect(HTML.escape("<a href=\"x\">'&'</a>") == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;")
    }
}
