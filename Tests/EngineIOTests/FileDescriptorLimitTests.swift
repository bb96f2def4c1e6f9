import Glibc
import Transport
import XCTest

/// The servers raise their own open-file limit at start: up to the hard limit at least, beyond it where the
/// process may, and they say so when it stays below what they want.
final class FileDescriptorLimitTests: XCTestCase {
    private func limits() -> rlimit {
        var limit = rlimit()
        XCTAssertEqual(getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit), 0)
        return limit
    }

    func testALoweredSoftLimitIsRaisedAtLeastToTheHardLimit() throws {
        let original = self.limits()
        try XCTSkipIf(original.rlim_max < 1024, "hard limit too low to lower the soft one below it")
        defer {
            var restore = original
            setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &restore)
        }
        var lowered = rlimit(rlim_cur: 256, rlim_max: original.rlim_max)
        XCTAssertEqual(setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &lowered), 0)

        let outcome = try XCTUnwrap(FileDescriptorLimit.raise())
        let now = self.limits()
        XCTAssertEqual(outcome.soft, UInt64(now.rlim_cur), "the outcome tells the limit in force")
        XCTAssertEqual(outcome.hard, UInt64(now.rlim_max))
        XCTAssertGreaterThanOrEqual(now.rlim_cur, min(original.rlim_max, rlim_t(FileDescriptorLimit.wanted)))
        XCTAssertGreaterThanOrEqual(now.rlim_max, original.rlim_max, "never lowered")
        XCTAssertEqual(outcome.warning(program: "x") == nil, outcome.soft >= FileDescriptorLimit.wanted)
    }

    func testTheWarningNamesTheLimitAndTheWayOut() {
        let capped = FileDescriptorLimit.Outcome(soft: 20_000, hard: 20_000, wanted: 1 << 20)
        let warning = capped.warning(program: "sio-echo") ?? ""
        XCTAssertTrue(warning.hasPrefix("sio-echo: open-file limit is 20000 (hard limit 20000"), warning)
        XCTAssertTrue(warning.contains("CAP_SYS_RESOURCE"), warning)
        XCTAssertNil(FileDescriptorLimit.Outcome(soft: 1 << 20, hard: 1 << 20, wanted: 1 << 20).warning(program: "x"))
    }
}
