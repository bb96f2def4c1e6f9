import EngineIO
import Foundation
import SocketIO
import SocketIOBenchmarkApp
import SocketIOTestSupport
import Synchronization
import Transport
import XCTest
@testable import sio_load

/// `sio-load soak` against an in-process benchmark app that records where each client came from: clients are
/// replaced while echoes and broadcasts flow, the polling ones too, from the listed source addresses, and
/// the server holds no session once the run is over.
final class SoakScenarioTests: XCTestCase {
    func testSoakReplacesClientsWhileEchoesAndBroadcastsFlow() throws {
        let addresses = Mutex<Set<String>>([])
        // Connections by the transport their handshake arrived on (`transport` of the Engine.IO handshake).
        let transports = Mutex<[String: Int]>([:])
        let server = try InProcessSocketIOServer(loops: 1) { io in
            io.on(.connection) { socket in
                addresses.withLock { _ = $0.insert(socket.handshake.address) }
                transports.withLock { $0[socket.handshake.query["transport"] ?? "?", default: 0] += 1 }
                BenchmarkApp.install(on: socket)
            }
        }
        defer { server.shutdown() }
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdown(timeoutSeconds: 2) }

        let options = try LoadOptions.parse([
            "soak", "--port", "\(server.port)", "--conns", "10", "--polling-conns", "2", "--churn", "20",
            "--rate", "100", "--brate", "5", "--duration", "1.5", "--report-every", "0.5",
            "--sources", "127.0.0.2,127.0.0.3", "--max-time", "20", "--connect-timeout", "5",
        ])
        let outcome = SIOLoad.runScenario(options, on: group.loops[0])
        XCTAssertEqual(outcome.status, 0)
        XCTAssertEqual(outcome.lines.count, 1, "one result line")
        let result = try XCTUnwrap(JSONSerialization.jsonObject(with: Data((outcome.lines.first ?? "").utf8)) as? [String: Any])
        XCTAssertEqual(result["scenario"] as? String, "soak")
        let disconnects = result["disconnects"] as? Int ?? 0
        let connects = result["connects"] as? Int ?? 0
        // 20 per second for 1.5 s, paced every 100 ms.
        XCTAssertGreaterThanOrEqual(disconnects, 20)
        XCTAssertGreaterThanOrEqual(connects, disconnects - 12, "replacements connect")
        XCTAssertGreaterThan(result["echo_replies"] as? Int ?? 0, 0)
        XCTAssertGreaterThan(result["deliveries"] as? Int ?? 0, 0, "broadcasts reach the room")
        for key in ["bad_replies", "protocol_errors"] {
            XCTAssertEqual(result[key] as? Int, 0, key)
        }
        // Over the whole run, not at its last moment: with 20 replacements a second among 12 clients, both polling
        // places may be between an old client and its replacement when the run ends.
        let polling = transports.withLock { $0["polling"] ?? 0 }
        XCTAssertGreaterThanOrEqual(polling, 2, "polling clients are part of the population: \(transports.withLock { $0 })")
        XCTAssertNotNil(result["polling_open"] as? Int, "the result reports open polling clients")
        let fromSources = addresses.withLock { seen in
            ["127.0.0.2", "127.0.0.3"].filter { address in seen.contains { $0.hasSuffix(address) } }
        }
        XCTAssertEqual(fromSources, ["127.0.0.2", "127.0.0.3"], "WebSocket clients connect from every listed source")

        // Every client was closed at the end: the server lets go of every session.
        let deadline = Date().addingTimeInterval(10)
        while server.engine.sessionCount > 0 && Date() < deadline { usleep(20_000) }
        XCTAssertEqual(server.engine.sessionCount, 0)
    }

    func testSoakOptionsAreParsedAndBadOnesRefused() throws {
        let options = try LoadOptions.parse(["soak", "--port", "1", "--polling-conns", "3", "--churn", "2.5",
                                             "--report-every", "4", "--sources", "127.0.0.2,127.0.0.3"])
        XCTAssertEqual(options.scenario, .soak)
        XCTAssertEqual(options.pollingConns, 3)
        XCTAssertEqual(options.churn, 2.5)
        XCTAssertEqual(options.reportEvery, 4)
        XCTAssertEqual(options.source(forClient: 0), "127.0.0.2")
        XCTAssertEqual(options.source(forClient: 3), "127.0.0.3")
        XCTAssertNil(try LoadOptions.parse(["echo", "--port", "1"]).source(forClient: 0))
        for bad in [["--churn", "-1"], ["--polling-conns", "-2"], ["--sources", "127.0.0.2,"], ["--report-every", "0"],
                    ["--sources", "127.0.0.2", "--tls"]] {
            XCTAssertThrowsError(try LoadOptions.parse(["soak", "--port", "1"] + bad), "\(bad)")
        }
    }
}
