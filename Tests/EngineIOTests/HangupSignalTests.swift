import Glibc
import Synchronization
import Transport
import XCTest

/// SIGHUP handlers (`TerminationSignals.onHangup`, what a TLS server's certificate reload uses): caught from
/// the moment `onHangup` returns, every signal delivered, and none after the registration is dropped.
final class HangupSignalTests: XCTestCase {
    func testASignalRightAfterRegisteringReachesTheHandlerAndEveryLaterOneToo() throws {
        let count = SignalCount()
        var registration: TerminationSignals.Registration? = TerminationSignals.onHangup {
            count.note()
        }
        defer { registration = nil }
        // No pause between registering and the signal: the window a Dispatch signal source left open.
        XCTAssertEqual(raise(SIGHUP), 0)
        XCTAssertTrue(TestDeadline.wait(timeout: 5) { count.value == 1 }, "the first SIGHUP was lost")
        XCTAssertEqual(raise(SIGHUP), 0)
        XCTAssertTrue(TestDeadline.wait(timeout: 5) { count.value == 2 }, "the second SIGHUP was lost")
        XCTAssertNotNil(registration)
    }

    func testADroppedRegistrationHearsNoMore() throws {
        let dropped = SignalCount()
        let kept = SignalCount()
        var first: TerminationSignals.Registration? = TerminationSignals.onHangup { dropped.note() }
        let second = TerminationSignals.onHangup { kept.note() }
        XCTAssertNotNil(first)
        first = nil
        XCTAssertEqual(raise(SIGHUP), 0)
        // The kept handler runs after the dropped one would have: once it has, the dropped one had its chance.
        XCTAssertTrue(TestDeadline.wait(timeout: 5) { kept.value == 1 })
        XCTAssertEqual(dropped.value, 0)
        withExtendedLifetime(second) {}
    }
}

/// How many signals a handler saw (a class: handlers are escaping closures).
private final class SignalCount: Sendable {
    private let count = Atomic<Int>(0)

    var value: Int { self.count.load(ordering: .relaxed) }

    func note() { self.count.add(1, ordering: .relaxed) }
}
