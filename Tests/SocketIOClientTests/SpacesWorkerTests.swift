import EngineIO
import Foundation
import SocketIO
import Synchronization
import XCTest

/// `spaces-worker` (the built executable) against an in-process server speaking SpacesApp's worker contract.
final class SpacesWorkerTests: XCTestCase {
    /// What the fake SpacesApp saw.
    private final class Contract: Sendable {
        let registers = Mutex<[JSONValue]>([])
        let results = Mutex<[String: JSONValue]>([:])
        /// Request ids in the order their results arrived.
        let order = Mutex<[String]>([])
        /// Requests handed to each newly registered worker.
        let requests: Mutex<[JSONValue]>

        init(requests: [JSONValue]) { self.requests = Mutex(requests) }

        func install(on io: SocketIOServer) {
            io.on(.connection) { socket in
                socket.on("register") { args, _ in
                    let data = args.first ?? .null
                    self.registers.withLock { $0.append(data) }
                    socket.emit("register_response", ["success": true, "message": "ok", "space_name": data["space_name"] ?? .null])
                    for request in self.requests.withLock({ $0 }) {
                        socket.emit("inference_request", request)
                    }
                }
                socket.on("inference_result") { args, _ in
                    guard let data = args.first, let id = data["request_id"]?.stringValue else { return }
                    self.results.withLock { $0[id] = data }
                    self.order.withLock { $0.append(id) }
                }
            }
        }

        func waitForResults(_ count: Int, timeout: TimeInterval = 30) -> [String: JSONValue] {
            let deadline = Date(timeIntervalSinceNow: timeout)
            while Date() < deadline {
                let results = self.results.withLock { $0 }
                if results.count >= count { return results }
                usleep(10_000)
            }
            return self.results.withLock { $0 }
        }
    }

    private var processes: [Process] = []

    override func tearDown() {
        for process in self.processes where process.isRunning {
            process.terminate()
            let deadline = Date(timeIntervalSinceNow: 5)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        self.processes = []
    }

    /// Starts spaces-worker; its log (stderr) goes to `log` when given.
    @discardableResult
    private func startWorker(_ arguments: [String], log: URL? = nil) throws -> Process {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("spaces-worker")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("spaces-worker not built at \(binary.path) (swift build --build-tests builds it)")
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        if let log {
            FileManager.default.createFile(atPath: log.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: log)
        } else {
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        self.processes.append(process)
        return process
    }

    private static func request(_ id: String, _ payload: JSONValue) -> JSONValue {
        ["request_id": .string(id), "username": "alice", "payload": payload, "space_name": "demo"]
    }

    func testRegistersAndSimulatesInference() throws {
        let contract = Contract(requests: [Self.request("r1", ["prompt": "hello world", "timestamp": 1])])
        let server = try ClientTestServer.make(setup: contract.install)
        defer { server.shutdown() }
        try self.startWorker(["--host", server.url, "--spaces", "demo", "--token", "tok", "--concurrency", "3", "--delay", "0"])
        let results = contract.waitForResults(1)
        XCTAssertEqual(results["r1"]?["status"], "completed")
        XCTAssertTrue(results["r1"]?["result"]?["text_output"]?.stringValue?.contains("hello world") ?? false)
        XCTAssertNotNil(results["r1"]?["result"]?["processing_time_seconds"])
        // The timestamp reads as ISO8601DateFormatter writes it (the worker formats it by arithmetic), and is now.
        let stamp = results["r1"]?["result"]?["timestamp"]?.stringValue ?? ""
        let parsed = ISO8601DateFormatter().date(from: stamp)
        XCTAssertEqual(parsed.map { ISO8601DateFormatter().string(from: $0) }, stamp)
        XCTAssertLessThan(abs(parsed?.timeIntervalSinceNow ?? .infinity), 60)
        // The keys in the order they are sent: the result message sorted, the simulation's in the original order.
        XCTAssertEqual(results["r1"]?.objectValue?.keys, ["request_id", "result", "status"])
        XCTAssertEqual(results["r1"]?["result"]?.objectValue?.keys,
                       ["text_output", "confidence", "model_used", "processing_time_seconds", "tokens_used", "timestamp"])
        XCTAssertEqual(results["r1"]?["result"]?["tokens_used"], 10)
        let register = contract.registers.withLock { $0.first }
        XCTAssertEqual(register?["space_name"], "demo")
        XCTAssertEqual(register?["token"], "tok")
        XCTAssertEqual(register?["concurrency"], 3)
    }

    /// With --delay 0 the worker answers on its connection's loop as requests are read: a burst of them, many per
    /// read, is answered once each, in arrival order, with the word counts of ASCII and other prompts.
    func testEchoAnswersABurstOnceEachInArrivalOrder() throws {
        let prompts = ["a b  c", " héllo  wörld ", "", "one"]
        let requests = (0..<300).map { Self.request("e\($0)", ["prompt": .string(prompts[$0 % prompts.count])]) }
        let contract = Contract(requests: requests)
        let server = try ClientTestServer.make(setup: contract.install)
        defer { server.shutdown() }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("spaces-worker-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let worker = try self.startWorker(["--host", server.url, "--spaces", "demo", "--concurrency", "8", "--delay", "0",
                                           "--transports", "websocket"], log: log)
        let results = contract.waitForResults(requests.count)
        XCTAssertEqual(results.count, requests.count)
        XCTAssertEqual(contract.order.withLock { $0 }, (0..<300).map { "e\($0)" })
        // The log lines written on the loop are gathered per iteration: every one arrives, in order, by the exit.
        worker.terminate()
        worker.waitUntilExit()
        let lines = (try String(contentsOf: log, encoding: .utf8)).split(separator: "\n")
        XCTAssertEqual(lines.filter { $0.contains("] request ") }.map { $0.split(separator: "]", maxSplits: 1)[1] },
                       (0..<300).map { " request e\($0): completed" })
        XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("[") && $0.count > 22 }, "\(lines.prefix(3))")
        for index in 0..<4 {
            let result = results["e\(index)"]?["result"]
            XCTAssertEqual(result?["text_output"]?.stringValue, "Processed by the Swift worker: \(prompts[index])")
            XCTAssertEqual(result?["tokens_used"]?.intValue, prompts[index].split(separator: " ").count + 8)
        }
    }

    /// Requests beyond --concurrency wait and start in the order they arrived.
    func testWaitingRequestsStartInArrivalOrder() throws {
        let requests = (1...5).map { Self.request("w\($0)", ["prompt": .string("p\($0)")]) }
        let contract = Contract(requests: requests)
        let server = try ClientTestServer.make(setup: contract.install)
        defer { server.shutdown() }
        try self.startWorker(["--host", server.url, "--spaces", "demo", "--exec", "cat", "--concurrency", "1",
                              "--transports", "websocket"])
        XCTAssertEqual(contract.waitForResults(5).count, 5)
        XCTAssertEqual(contract.order.withLock { $0 }, ["w1", "w2", "w3", "w4", "w5"])
    }

    func testExecRunsTheCommandPerRequest() throws {
        let big = String(repeating: "x", count: 3_000_000)
        let contract = Contract(requests: [
            Self.request("json", ["prompt": "as is", "n": 1]),
            Self.request("big", ["prompt": .string(big)]),
        ])
        let server = try ClientTestServer.make(setup: contract.install)
        defer { server.shutdown() }
        // `cat` echoes the payload JSON: a JSON object result, and 3 MB through both pipes at once.
        try self.startWorker(["--host", server.url, "--spaces", "demo", "--exec", "cat", "--concurrency", "2", "--transports", "websocket"])
        let results = contract.waitForResults(2)
        XCTAssertEqual(results["json"]?["status"], "completed")
        XCTAssertEqual(results["json"]?["result"], ["prompt": "as is", "n": 1])
        XCTAssertEqual(results["big"]?["result"]?["prompt"]?.stringValue?.count, big.count)

        let textContract = Contract(requests: [Self.request("text", ["prompt": "p"]), Self.request("fail", ["prompt": "fail"])])
        let textServer = try ClientTestServer.make(setup: textContract.install)
        defer { textServer.shutdown() }
        let script = #"input=$(cat); case "$input" in *fail*) echo "model exploded" >&2; exit 3;; *) echo "plain text for $input";; esac"#
        try self.startWorker(["--host", textServer.url, "--spaces", "demo", "--exec", script, "--transports", "polling"])
        let textResults = textContract.waitForResults(2)
        XCTAssertEqual(textResults["text"]?["status"], "completed")
        XCTAssertEqual(textResults["text"]?["result"]?["text_output"], #"plain text for {"prompt":"p"}"#)
        XCTAssertEqual(textResults["fail"]?["status"], "failed")
        XCTAssertEqual(textResults["fail"]?["result"]?["error"], "model exploded")
    }

    /// A command that leaves a background process holding its stdout answers when the command itself exits,
    /// not when the background process does (or after a grace period).
    func testExecAnswersWhenTheCommandExitsDespiteBackgroundChildren() throws {
        let contract = Contract(requests: [Self.request("bg", ["prompt": "p"])])
        let server = try ClientTestServer.make(setup: contract.install)
        defer { server.shutdown() }
        // A duration no other process uses, to find the background sleep again.
        let marker = "sleep 600.\(Int.random(in: 100_000...999_999))"
        try self.startWorker(["--host", server.url, "--spaces", "demo", "--exec",
                              "\(marker) & echo started; echo to-stderr >&2"])
        defer { _ = try? Process.run(URL(fileURLWithPath: "/usr/bin/pkill"), arguments: ["-f", marker]) }
        let registered = Date(timeIntervalSinceNow: 30)
        while contract.registers.withLock({ $0.isEmpty }) && Date() < registered { usleep(10_000) }
        let start = Date()
        let results = contract.waitForResults(1)
        XCTAssertEqual(results["bg"]?["status"], "completed")
        XCTAssertEqual(results["bg"]?["result"]?["text_output"], "started")
        // The previous collector waited 5 s for the pipes to close; a loaded machine still answers within 3.
        XCTAssertLessThan(Date().timeIntervalSince(start), 3)
    }

    func testConcurrencyLimitAndReregistrationAfterRestart() throws {
        let requests = (1...4).map { Self.request("c\($0)", ["prompt": .string("p\($0)")]) }
        let contract = Contract(requests: requests)
        var server = try ClientTestServer.make(setup: contract.install)
        let port = server.port
        let start = Date()
        try self.startWorker(["--host", server.url, "--spaces", "demo", "--exec", "sleep 0.4; cat", "--concurrency", "2"])
        let results = contract.waitForResults(4)
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(results.count, 4)
        XCTAssertGreaterThanOrEqual(elapsed, 0.8, "two at a time: at least two rounds of 0.4 s")

        contract.results.withLock { $0.removeAll() }
        contract.requests.withLock { $0 = [Self.request("after", ["prompt": "again"])] }
        server.shutdown()
        server = try ClientTestServer.make(port: port, setup: contract.install)
        defer { server.shutdown() }
        let again = contract.waitForResults(1, timeout: 30)
        XCTAssertEqual(again["after"]?["status"], "completed")
        XCTAssertEqual(contract.registers.withLock { $0.count }, 2, "registered again by itself")
    }
}
