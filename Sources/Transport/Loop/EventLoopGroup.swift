import Foundation
import Glibc
import Synchronization

/// A fixed set of event loops, one thread each; new connections are spread over them.
public final class EventLoopGroup: Sendable {
    /// The loops, in index order.
    public let loops: [EventLoop]
    /// The bound on output that all connections of these loops hold for peers that stopped reading.
    public let outputBudget: OutputBudget
    private let threads: Mutex<[Thread]>
    private let cursor = Atomic<Int>(0)
    private let finished: DispatchGroup

    /// Starts `count` loops (default: one per core).
    public init(loopCount count: Int = ProcessInfo.processInfo.activeProcessorCount) throws(EventLoopError) {
        var loops: [EventLoop] = []
        let budget = OutputBudget(loopCount: max(1, count))
        self.outputBudget = budget
        for i in 0..<max(1, count) { loops.append(try EventLoop(index: i, budget: budget)) }
        self.loops = loops
        let group = DispatchGroup()
        self.finished = group
        var threads: [Thread] = []
        let started = DispatchSemaphore(value: 0)
        for loop in loops {
            group.enter()
            // The thread holds its loop only while running it: once `shutdown` has seen it leave, the thread
            // (which may still be ending) no longer keeps the loop, and what the loop held, alive.
            let thread = Thread { [owned = Unmanaged.passRetained(loop)] in
                Self.runToEnd(owned.takeRetainedValue())
                group.leave()
            }
            thread.name = "eio-loop-\(loop.index)"
            // Reserved, not resident: a loop recurses once per level of a client's JSON (serializing, comparing
            // and freeing values, up to the parser's 512 levels), which 1 MiB did not hold under ASan's frames.
            thread.stackSize = 8 << 20
            threads.append(thread)
            thread.start()
            // Wait until the loop records its thread so `inEventLoop` is right from the start.
            loop.execute { started.signal() }
            started.wait()
        }
        self.threads = Mutex(threads)
    }

    private static func runToEnd(_ loop: EventLoop) {
        loop.run()
        loop.markStopped()
    }

    /// The next loop in round-robin order.
    public func next() -> EventLoop {
        let n = self.cursor.wrappingAdd(1, ordering: .relaxed).oldValue
        return self.loops[n % self.loops.count]
    }

    /// Stops every loop after it ran what was queued, and waits up to `timeoutSeconds` for the threads.
    public func shutdown(timeoutSeconds: Double = 10) {
        for loop in self.loops { loop.stop() }
        _ = self.finished.wait(timeout: .now() + timeoutSeconds)
        self.threads.withLock { $0.removeAll() }
    }
}
