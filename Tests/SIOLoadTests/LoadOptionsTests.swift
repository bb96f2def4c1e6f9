@testable import sio_load
import XCTest

/// The command line: sioload's names and defaults, and refusals with a reason instead of a run with
/// nonsense.
final class LoadOptionsTests: XCTestCase {
    func testOptionsAreSioloadsAndUnknownOnesAreRefused() throws {
        let options = try LoadOptions.parse(["echo", "--port", "3000", "--conns", "7", "--window", "2", "--ack",
                                             "--transport", "polling", "--server-sid", "42", "--label", "x"])
        XCTAssertEqual(options.conns, 7)
        XCTAssertEqual(options.window, 2)
        XCTAssertTrue(options.ack)
        XCTAssertEqual(options.transport, .polling)
        XCTAssertEqual(options.serverSID, 42)
        XCTAssertThrowsError(try LoadOptions.parse(["echo", "--port", "3000", "--bogus"]))
        XCTAssertThrowsError(try LoadOptions.parse(["flood", "--port", "3000"]))
        XCTAssertThrowsError(try LoadOptions.parse(["echo"]))
    }

    func testRateAndCapacityDefaultsMatchSioload() throws {
        let rate = try LoadOptions.parse(["rate", "--port", "80"])
        XCTAssertEqual(rate.scenario, .rate)
        XCTAssertEqual(rate.rate, 2000)
        XCTAssertEqual(rate.conns, 100)
        let capacity = try LoadOptions.parse(["capacity", "--port", "80"])
        XCTAssertEqual(capacity.steps, [1000, 5000, 10000])
        XCTAssertEqual(capacity.pending, 32)
        XCTAssertEqual(capacity.settle, 2)
    }

    func testStepsAndRateAreParsed() throws {
        let options = try LoadOptions.parse(["capacity", "--port", "80", "--steps", "20,50", "--settle", "0.5",
                                             "--rate", "12.5"])
        XCTAssertEqual(options.steps, [20, 50])
        XCTAssertEqual(options.settle, 0.5)
        XCTAssertEqual(options.rate, 12.5)
    }

    func testBadStepsAndRatesAreRefused() {
        for steps in ["", "50,20", "0,10", "10,,20", "ten", "10,10"] {
            XCTAssertThrowsError(try LoadOptions.parse(["capacity", "--port", "80", "--steps", steps]), steps)
        }
        for rate in ["0", "-5", "fast", "inf"] {
            XCTAssertThrowsError(try LoadOptions.parse(["rate", "--port", "80", "--rate", rate]), rate)
        }
    }

    func testClusterOptionsSpreadMembersAndKeepTheControlClientOnPort() throws {
        let options = try LoadOptions.parse(["broadcast", "--port", "80", "--ports", "81,82,83", "--clients", "4",
                                             "--brate", "1000", "--server-pids", "10,11"])
        XCTAssertEqual((0..<5).map(options.port(forClient:)), [81, 82, 83, 81, 80])
        XCTAssertEqual(options.brate, 1000)
        XCTAssertEqual(options.serverPIDs, [10, 11])
        for bad in [["--ports", "80,,81"], ["--ports", "0"], ["--ports", "x"], ["--brate", "0"], ["--server-pids", "-1"]] {
            XCTAssertThrowsError(try LoadOptions.parse(["broadcast", "--port", "80"] + bad), "\(bad)")
        }
    }
}
