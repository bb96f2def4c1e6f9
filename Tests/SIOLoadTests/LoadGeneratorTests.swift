import EngineIO
import Foundation
import SocketIOTestSupport
import Transport
import XCTest
@testable import sio_load

/// `sio-load`'s scenarios against an in-process benchmark app: short windows, and checks on what was
/// counted and on the answers, never on speed.
final class LoadGeneratorTests: XCTestCase {
    private var server: InProcessSocketIOServer!
    private var group: EventLoopGroup!

    override func setUpWithError() throws {
        self.server = try BenchmarkAppServer.make()
        self.group = try EventLoopGroup(loopCount: 1)
    }

    override func tearDown() {
        self.group?.shutdown(timeoutSeconds: 2)
        self.server?.shutdown()
    }

    /// Runs `arguments` (a sio-load command line without `--port`) and returns its one result line.
    private func run(_ arguments: [String], against server: InProcessSocketIOServer? = nil) throws -> [String: Any] {
        let lines = try self.runLines(arguments, against: server)
        XCTAssertEqual(lines.count, 1, "one result line")
        return try XCTUnwrap(lines.first)
    }

    /// Runs `arguments` and returns every result line; the run must end with status 0.
    private func runLines(_ arguments: [String], against server: InProcessSocketIOServer? = nil) throws -> [[String: Any]] {
        let port = (server ?? self.server).port
        var options = try LoadOptions.parse(arguments + ["--port", "\(port)", "--server-pid", "\(getpid())",
                                                         "--max-time", "20", "--connect-timeout", "5"])
        options.label = "test"
        let outcome = SIOLoad.runScenario(options, on: self.group.loops[0])
        XCTAssertEqual(outcome.status, 0, "exit status")
        return try outcome.lines.map { line in
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
    }

    private func assertClean(_ result: [String: Any], file: StaticString = #filePath, line: UInt = #line) {
        for key in ["failed_conns", "dropped_after_ready", "protocol_errors", "bad_replies"] {
            XCTAssertEqual(result[key] as? Int, 0, key, file: file, line: line)
        }
        XCTAssertEqual(result["label"] as? String, "test", file: file, line: line)
        XCTAssertNotNil(result["loadgen_cpu_pct"] as? Double, file: file, line: line)
        XCTAssertNotNil(result["server_cpu_pct_window"] as? Double, "the server is sampled", file: file, line: line)
    }

    private func assertEchoCounted(_ result: [String: Any], file: StaticString = #filePath, line: UInt = #line) {
        let msgs = result["msgs"] as? Int ?? 0
        let sent = result["sent"] as? Int ?? 0
        XCTAssertGreaterThan(msgs, 0, "answers counted in the window", file: file, line: line)
        // Every counted answer was sent; at most conns x window are still in flight at the end.
        XCTAssertLessThanOrEqual(msgs, sent, file: file, line: line)
        XCTAssertGreaterThan(result["lat_p50_ms"] as? Double ?? -1, 0, file: file, line: line)
        XCTAssertGreaterThanOrEqual(result["lat_p99_ms"] as? Double ?? -1, result["lat_p50_ms"] as? Double ?? 0,
                                    file: file, line: line)
        XCTAssertNotNil(result["server_cpu_us_per_msg"] as? Double, file: file, line: line)
    }

    func testWebSocketEchoCountsIntactAnswers() throws {
        let result = try self.run(["echo", "--conns", "4", "--window", "2", "--warmup", "0.1", "--duration", "0.4"])
        XCTAssertEqual(result["scenario"] as? String, "echo")
        XCTAssertEqual(result["transport"] as? String, "websocket")
        self.assertClean(result)
        self.assertEchoCounted(result)
    }

    func testEchoAckCountsAcknowledgements() throws {
        let result = try self.run(["echo", "--ack", "--conns", "3", "--window", "3", "--warmup", "0.1", "--duration", "0.4"])
        XCTAssertEqual(result["scenario"] as? String, "echo-ack")
        XCTAssertEqual(result["event"] as? String, "echo-ack")
        self.assertClean(result)
        self.assertEchoCounted(result)
    }

    func testPollingEchoCountsIntactAnswers() throws {
        let result = try self.run(["echo", "--transport", "polling", "--conns", "3", "--window", "2",
                                   "--warmup", "0.1", "--duration", "0.4"])
        XCTAssertEqual(result["scenario"] as? String, "echo-polling")
        XCTAssertEqual(result["transport"] as? String, "polling")
        self.assertClean(result)
        self.assertEchoCounted(result)
    }

    /// 200 msgs/s for one measured second: the messages due in the window are counted by their intended
    /// send time, so their number does not depend on how fast this machine is; every one is answered.
    func testRateSendsEveryMessageDueInTheWindow() throws {
        let result = try self.run(["rate", "--rate", "200", "--conns", "4", "--warmup", "0.2", "--duration", "1"])
        XCTAssertEqual(result["scenario"] as? String, "rate")
        XCTAssertEqual(result["window"] as? Int, 0)
        self.assertRateCounted(result, rate: 200)
    }

    func testPollingRateSendsEveryMessageDueInTheWindow() throws {
        let result = try self.run(["rate", "--transport", "polling", "--rate", "100", "--conns", "3",
                                   "--warmup", "0.2", "--duration", "1"])
        XCTAssertEqual(result["scenario"] as? String, "rate-polling")
        self.assertRateCounted(result, rate: 100)
    }

    private func assertRateCounted(_ result: [String: Any], rate: Int, file: StaticString = #filePath, line: UInt = #line) {
        self.assertClean(result, file: file, line: line)
        XCTAssertEqual(result["target_rate"] as? Int, rate, file: file, line: line)
        let due = result["sent_in_window"] as? Int ?? 0
        // rate x 1 s; one either way for where the first and last intended times fall.
        XCTAssertLessThanOrEqual(abs(due - rate), 1, "messages due in the window", file: file, line: line)
        XCTAssertEqual(result["msgs"] as? Int, due, "every message due in the window was answered", file: file, line: line)
        XCTAssertEqual(result["lost"] as? Int, 0, file: file, line: line)
        XCTAssertGreaterThan(result["lat_p50_ms"] as? Double ?? -1, 0, file: file, line: line)
        XCTAssertNotNil(result["server_cpu_us_per_msg"] as? Double, file: file, line: line)
    }

    /// Two small steps, then the closing check on every connection.
    func testCapacityReportsEveryStep() throws {
        let lines = try self.runLines(["capacity", "--steps", "20,50", "--pending", "8", "--settle", "0.2"])
        XCTAssertEqual(lines.count, 3, "two steps and the closing check")
        let steps = lines.filter { $0["scenario"] as? String == "capacity" }
        XCTAssertEqual(steps.map { $0["target"] as? Int }, [20, 50])
        XCTAssertEqual(steps.map { $0["open"] as? Int }, [20, 50])
        for step in steps {
            XCTAssertEqual(step["label"] as? String, "test")
            XCTAssertEqual(step["transport"] as? String, "websocket")
            XCTAssertGreaterThan(step["handshakes_per_s"] as? Double ?? -1, 0)
            XCTAssertGreaterThan(step["step_handshakes_per_s"] as? Double ?? -1, 0)
            XCTAssertGreaterThan(step["handshake_p50_ms"] as? Double ?? -1, 0)
            XCTAssertGreaterThan(step["rss_kb"] as? Int ?? 0, 0, "the server is sampled")
            XCTAssertNotNil(step["kb_per_conn"] as? Double)
            for key in ["failed_conns", "dropped_after_ready", "protocol_errors"] {
                XCTAssertEqual(step[key] as? Int, 0, key)
            }
        }
        let check = try XCTUnwrap(lines.last)
        XCTAssertEqual(check["scenario"] as? String, "capacity-echo-all")
        XCTAssertEqual(check["open"] as? Int, 50)
        XCTAssertEqual(check["echo_ok"] as? Int, 50, "every open connection answered")
        XCTAssertEqual(check["bad_replies"] as? Int, 0)
    }

    func testBroadcastReachesEveryMember() throws {
        let result = try self.run(["broadcast", "--clients", "5", "--broadcasts", "20", "--bwarm", "2"])
        self.assertClean(result)
        XCTAssertEqual(result["completed"] as? Int, 20)
        XCTAssertEqual(result["deliveries"] as? Int, 100)
        XCTAssertEqual(result["expected_deliveries"] as? Int, 100)
        XCTAssertNotNil(result["server_cpu_us_per_delivery"] as? Double)
    }

    func testScheduledBroadcastOverListedPortsReachesEveryMember() throws {
        let port = self.server.port
        let result = try self.run(["broadcast", "--clients", "5", "--broadcasts", "40", "--bwarm", "4", "--brate", "400",
                                   "--ports", "\(port),\(port)", "--server-pids", "\(getpid()),\(getpid())"])
        self.assertClean(result)
        XCTAssertEqual(result["completed"] as? Int, 40)
        XCTAssertEqual(result["deliveries"] as? Int, 200)
        XCTAssertEqual(result["brate"] as? Double, 400)
        XCTAssertEqual(result["servers"] as? Int, 2)
        XCTAssertNotNil(result["server_cpu_s_0"] as? Double)
        XCTAssertNotNil(result["server_cpu_s_1"] as? Double)
        XCTAssertGreaterThan(result["delivery_lat_p50_ms"] as? Double ?? -1, 0)
    }

    func testAlteredAnswersAreCountedAsBad() throws {
        let altering = try BenchmarkAppServer.make(alterEchoes: true)
        defer { altering.shutdown() }
        let result = try self.run(["echo", "--conns", "2", "--window", "1", "--warmup", "0.05", "--duration", "0.2"],
                                  against: altering)
        XCTAssertGreaterThan(result["msgs"] as? Int ?? 0, 0)
        XCTAssertGreaterThan(result["bad_replies"] as? Int ?? 0, 0, "a changed payload is noticed")
    }

    func testRefusedConnectionsEndTheRunWithStatus5() throws {
        // A port nobody listens on: every client fails to connect, as sioload reports it.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                _ = bind(listener, raw, length)
                _ = getsockname(listener, raw, &length)
            }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        close(listener)  // bound and released: nothing listens there now
        let options = try LoadOptions.parse(["echo", "--conns", "3", "--port", "\(port)", "--connect-timeout", "5"])
        let outcome = SIOLoad.runScenario(options, on: self.group.loops[0])
        XCTAssertEqual(outcome.status, 5)
        XCTAssertTrue(outcome.lines.isEmpty)
    }
}
