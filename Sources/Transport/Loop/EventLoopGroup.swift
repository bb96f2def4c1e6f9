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

    /// The busy share (per mille of the last `LoopLoad.windowNanos`) under which a loop takes new connections
    /// ahead of the loops after it.
    public static let fillThresholdPermille = 500

    /// The loop that should own a connection just accepted on `acceptedOn`: the first loop, in index order,
    /// that was busy less than half of the last 100 ms; when every loop is, the accepting one unless another
    /// is clearly less busy (a hand-off costs the target a wakeup). At low rates the connections thus share
    /// one loop: each message still costs one wakeup, but on one thread whose code and data stay warm in one
    /// core's cache, and messages that arrive together are handled in one wakeup. Filled loops spill over,
    /// so busy servers still use every core. Safe from any thread.
    public func loopForNewConnection(acceptedOn: EventLoop) -> EventLoop {
        guard self.loops.count > 1 else { return acceptedOn }
        let now = monotonicNanos()
        var least = acceptedOn
        var leastShare = Int.max
        var acceptedShare = Int.max
        for loop in self.loops {
            let share = loop.load.recentPermille(now: now)
            if share < Self.fillThresholdPermille { return loop }
            if loop === acceptedOn { acceptedShare = share }
            if share < leastShare { (least, leastShare) = (loop, share) }
        }
        return leastShare &+ 100 < acceptedShare ? least : acceptedOn
    }

    /// Stops every loop after it ran what was queued, and waits up to `timeoutSeconds` for the threads.
    public func shutdown(timeoutSeconds: Double = 10) {
        for loop in self.loops { loop.stop() }
        _ = self.finished.wait(timeout: .now() + timeoutSeconds)
        self.threads.withLock { $0.removeAll() }
    }
}
