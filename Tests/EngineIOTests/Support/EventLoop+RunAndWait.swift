import Dispatch
import Synchronization

@testable import Transport

extension EventLoop {
    /// Runs `body` on this loop and returns its result to the test thread (loop-owned state is read there).
    func runAndWait<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        let result = Mutex<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        self.execute {
            result.withLock { $0 = body() }
            done.signal()
        }
        _ = done.wait(timeout: .now() + 10)
        return result.withLock { $0! }
    }
}
