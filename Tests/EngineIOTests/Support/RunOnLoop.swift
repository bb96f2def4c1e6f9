import Dispatch
import Transport
import XCTest

extension XCTestCase {
    /// Runs `body` on `loop`'s thread and waits (at most 5 s) for it: timers are the loop's to arm and cancel.
    func runOnLoop(_ loop: EventLoop, _ body: @escaping @Sendable () -> Void) {
        let done = DispatchSemaphore(value: 0)
        loop.execute {
            body()
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success)
    }
}
