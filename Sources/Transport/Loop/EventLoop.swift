import CEngineIOShims
import Glibc
import Synchronization

/// Something registered with an event loop that wants readiness events for one file descriptor.
protocol EventLoopHandler: AnyObject {
    /// Called on the loop thread with the epoll event mask.
    func handleEvents(_ mask: UInt32)
    /// Called on the loop thread once the loop has stopped, for each handler still registered: a connection
    /// closes, a listener lets go of its socket. The loop drops its reference right after.
    func loopStopped()
}

extension EventLoopHandler {
    func loopStopped() {}
}

/// Something that buffered output during this loop iteration and writes it out once at the end.
package protocol EventLoopFlushable: AnyObject {
    func flushNow()
    /// Called by `loop` (on its thread) at the end of the iteration that scheduled the flush; `flushNow()`
    /// unless the target has a cheaper form for that case.
    func flush(from loop: EventLoop)
}

extension EventLoopFlushable {
    /// `flushNow()`.
    package func flush(from loop: EventLoop) { self.flushNow() }
}

/// One epoll event loop on its own thread.
///
/// Everything a loop owns (registrations, timers, connections) is touched only on its thread; other threads
/// reach it through `execute`, which queues a closure and wakes the loop through an eventfd. Output produced
/// while handling one batch of events is written once at the end of the batch (`scheduleFlush`), so a
/// connection that received ten messages in one read answers them with one `send`.
public final class EventLoop: @unchecked Sendable {
    // Invariant for @unchecked Sendable: every `var` below except `pending` (guarded by its Mutex) is
    // read and written on the loop thread only.
    // Hot stored properties skip dynamic exclusivity checks; no access to them spans a re-entrant call.

    /// Position of this loop in its group.
    public let index: Int
    private let epollFD: Int32
    private let wakeupFD: Int32
    @exclusivity(unchecked) private var handlers: [Slot] = []
    @exclusivity(unchecked) private var timers = LoopTimers()
    @exclusivity(unchecked) private var flushQueue: [EventLoopFlushable] = []
    /// The queue being flushed; swapped with `flushQueue` so that neither is reallocated per iteration.
    @exclusivity(unchecked) private var flushing: [EventLoopFlushable] = []
    /// Tasks taken from `pending`, swapped in and out under the lock so that the loop reuses two arrays.
    @exclusivity(unchecked) private var runningTasks: [@Sendable () -> Void] = []
    /// The next task of `runningTasks` to run: a batch that outlasts `taskTimeSliceNanos` goes on in the
    /// next iteration, after the I/O that waited.
    @exclusivity(unchecked) private var taskCursor = 0
    /// True while tasks wait in `runningTasks` or `pending` without a wakeup to announce them.
    @exclusivity(unchecked) private var tasksLeft = false
    /// Tasks queued and not yet run; read by other loops to see that this one is behind (see LoopLag.swift).
    let taskDepth = Atomic<Int>(0)
    /// Set by `execute` on this loop's thread when it fed a loop that is behind; see LoopLag.swift.
    @exclusivity(unchecked) var lagTarget: EventLoop?
    /// Connections that stopped reading until the loops they feed catch up.
    @exclusivity(unchecked) var lagWaiters: [(connection: TCPConnection, target: EventLoop)] = []
    /// Output buffers given back by drained connections, lent to connections that start writing: idle
    /// connections hold no output memory, and busy ones do not allocate per loop iteration.
    @exclusivity(unchecked) private var spareBuffers: [[UInt8]] = []
    @exclusivity(unchecked) private var spareBytes = 0
    /// The buffer given back last, taken first: one slot outside the pool (and its byte count), so that a loop
    /// that serves one writer per iteration only swaps it in and out.
    @exclusivity(unchecked) private var spareBuffer: [UInt8] = []
    /// Storage lent to the read buffer of the connection being read (`takeReadStorage`), so that reads
    /// that are consumed whole do not allocate.
    @exclusivity(unchecked) private var readStorage = LoopReadStorage()
    /// Storage behind `withScratchBytes`.
    @exclusivity(unchecked) private var scratchBytes: [UInt8] = []
    private let pending = Mutex<PendingWork>(PendingWork())
    /// The loop thread's id once `run` started, 0 before (glibc never hands out 0).
    @usableFromInline @exclusivity(unchecked) var threadID: pthread_t = 0
    @exclusivity(unchecked) private var running = true
    @exclusivity(unchecked) private var generation: UInt32 = 0
    /// A read buffer shared by every connection of this loop: bytes are copied out of it only when a
    /// message is split across reads, so idle connections hold no read memory.
    @exclusivity(unchecked) var scratch: UnsafeMutableRawBufferPointer
    /// The connections of this loop whose peers are behind, counted against the group's output budget.
    let backlog: LoopBacklog
    /// How busy this loop has been lately, for placing new connections (see LoopLoad.swift).
    let load: LoopLoad
    /// Returns from `epoll_wait` so far: an idle loop must not wake (see EventLoopWakeupTests).
    let wakeupCount = Atomic<Int>(0)

    private struct Slot {
        var generation: UInt32
        var handler: EventLoopHandler?
    }

    private struct PendingWork: ~Copyable {
        var tasks: [@Sendable () -> Void] = []
        var wakeupPending = false
        var stopped = false
    }

    private static let wakeupToken: UInt64 = UInt64.max

    init(index: Int, budget: OutputBudget) throws(EventLoopError) {
        self.index = index
        self.backlog = LoopBacklog(budget: budget, index: index)
        self.load = LoopLoad(now: monotonicNanos())
        let ep = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard ep >= 0 else { throw EventLoopError.system("epoll_create1", errno) }
        let wake = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard wake >= 0 else {
            close(ep)
            throw EventLoopError.system("eventfd", errno)
        }
        self.epollFD = ep
        self.wakeupFD = wake
        self.scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        guard ceio_epoll_ctl(ep, EPOLL_CTL_ADD, wake, EPOLLIN.rawValue, Self.wakeupToken) == 0 else {
            throw EventLoopError.system("epoll_ctl(eventfd)", errno)
        }
    }

    deinit {
        close(self.epollFD)
        close(self.wakeupFD)
        self.scratch.deallocate()
    }

    /// True when called on this loop's thread.
    @inlinable public var inEventLoop: Bool {
        // Inlined where it is asked (an emit checks it per message): no call, no optional.
        let tid = self.threadID
        return tid != 0 && pthread_equal(pthread_self(), tid) != 0
    }

    /// True when no task waits to run, neither queued nor left in the batch being run. Work that code on the loop
    /// thread would queue may then run at once and still come after everything queued before it (a client's emit
    /// from an event handler). The queue itself, not `taskDepth`: `execute` counts a task after queueing it, so the
    /// count can lag behind the queue. Loop thread only.
    package var hasNoQueuedTasks: Bool {
        self.taskCursor >= self.runningTasks.count && self.pending.withLock { $0.tasks.isEmpty }
    }

    // MARK: Cross-thread work

    /// Runs `task` on the loop thread, soon. Safe from any thread.
    public func execute(_ task: @escaping @Sendable () -> Void) {
        _ = self.tryExecute(task)
    }

    /// `execute`, telling whether the task was queued: false when the loop has stopped and dropped it, for a
    /// caller that must then release what the task would have owned (an accepted socket).
    func tryExecute(_ task: @escaping @Sendable () -> Void) -> Bool {
        let (queued, needsWakeup) = self.pending.withLock { state -> (Bool, Bool) in
            if state.stopped { return (false, false) }
            state.tasks.append(task)
            if state.wakeupPending { return (true, false) }
            state.wakeupPending = true
            return (true, true)
        }
        if needsWakeup {
            var one: UInt64 = 1
            _ = write(self.wakeupFD, &one, 8)
        }
        // A stopped loop drops the task: it must not count as queued work.
        guard queued else { return false }
        let depth = self.taskDepth.wrappingAdd(1, ordering: .relaxed).newValue
        if depth > Self.lagHighMark { self.noteFedWhileBehind() }
        return true
    }

    /// Runs `task` now if already on the loop thread, otherwise queues it.
    public func executeOrRun(_ task: @escaping @Sendable () -> Void) {
        if self.inEventLoop { task() } else { self.execute(task) }
    }

    // MARK: Timers (loop thread only)

    /// Schedules `action` after `delayMillis`. Loop thread only.
    @discardableResult
    public func schedule(afterMillis delayMillis: Int, _ action: @escaping () -> Void) -> LoopTimer {
        let now = monotonicNanos()
        let timer = LoopTimer(deadline: now &+ Self.nanos(millis: delayMillis), action: action)
        self.timers.insert(timer, now: now)
        return timer
    }

    /// Schedules `action` after `delayMillis` on the loop's timer wheel, for a timeout armed and disarmed once
    /// or more per connection and that rarely fires (a header timeout, a heartbeat): arming, re-arming and
    /// cancelling it cost the same few steps however many timers the loop holds. It fires no earlier than
    /// `delayMillis` and at most `coarseTimerSlackMillis` later (plus the loop's latency); one due more than
    /// about a minute away is kept exactly, like `schedule`'s. Loop thread only.
    @discardableResult
    public func scheduleCoarse(afterMillis delayMillis: Int, _ action: @escaping () -> Void) -> LoopTimer {
        let now = monotonicNanos()
        let timer = LoopTimer(deadline: now &+ Self.nanos(millis: delayMillis), coarse: true, action: action)
        self.timers.insert(timer, now: now)
        return timer
    }

    /// How late a coarse timer may fire: one tick of the wheel, rounded up.
    public static let coarseTimerSlackMillis = Int((TimerWheel.tickNanos + 999_999) / 1_000_000)

    /// Schedules `action` after `delayMillis`, or when the loop stops if that comes first: for a deadline whose
    /// action ends something (a session's bounded close) and that a stopped loop must not simply drop, which
    /// would leave it, and what its action captures, waiting forever. Loop thread only.
    @discardableResult
    public func scheduleDeadline(afterMillis delayMillis: Int, _ action: @escaping () -> Void) -> LoopTimer {
        let timer = self.schedule(afterMillis: delayMillis, action)
        timer.fireOnStop()
        return timer
    }

    /// Re-arms an existing timer (fired or not) without allocating a new one; a coarse timer stays coarse.
    /// Loop thread only.
    public func reschedule(_ timer: LoopTimer, afterMillis delayMillis: Int, _ action: (() -> Void)? = nil) {
        self.timers.remove(timer)
        let now = monotonicNanos()
        timer.reset(deadline: now &+ Self.nanos(millis: delayMillis))
        if let action { timer.setAction(action) }
        self.timers.insert(timer, now: now)
    }

    @inline(__always)
    private static func nanos(millis: Int) -> UInt64 { UInt64(max(0, millis)) &* 1_000_000 }

    /// Takes a timer off the schedule but keeps its action, for a later `reschedule`. Loop thread only.
    package func disarm(_ timer: LoopTimer) {
        self.timers.remove(timer)
    }

    /// Cancels a timer; harmless if it already fired. Loop thread only.
    public func cancel(_ timer: LoopTimer) {
        self.timers.remove(timer)
        _ = timer.takeAction()
    }

    // MARK: Registration (loop thread only)

    /// Registers `fd` for `events`; returns the token epoll reports with each event.
    func register(fd: Int32, events: UInt32, handler: EventLoopHandler) throws(EventLoopError) {
        let index = Int(fd)
        if index >= self.handlers.count {
            self.handlers.append(contentsOf: repeatElement(Slot(generation: 0, handler: nil), count: index - self.handlers.count + 1))
        }
        self.generation &+= 1
        self.handlers[index] = Slot(generation: self.generation, handler: handler)
        let token = UInt64(UInt32(bitPattern: fd)) | (UInt64(self.generation) << 32)
        guard ceio_epoll_ctl(self.epollFD, EPOLL_CTL_ADD, fd, events, token) == 0 else {
            self.handlers[index].handler = nil
            throw EventLoopError.system("epoll_ctl(ADD)", errno)
        }
    }

    /// Changes the events `fd` is interested in.
    func modify(fd: Int32, events: UInt32) {
        let index = Int(fd)
        guard index < self.handlers.count else { return }
        let token = UInt64(UInt32(bitPattern: fd)) | (UInt64(self.handlers[index].generation) << 32)
        _ = ceio_epoll_ctl(self.epollFD, EPOLL_CTL_MOD, fd, events, token)
    }

    /// Removes `fd`; events already fetched for it in this batch are dropped by the generation check.
    func deregister(fd: Int32) {
        _ = ceio_epoll_ctl(self.epollFD, EPOLL_CTL_DEL, fd, 0, 0)
        let index = Int(fd)
        if index < self.handlers.count {
            self.handlers[index] = Slot(generation: 0, handler: nil)
        }
    }

    /// Forgets `fd` without `EPOLL_CTL_DEL`, for a socket the caller closes right away: closing its last
    /// descriptor takes it out of epoll, so the call would be one system call per connection for nothing.
    /// While a forked child still holds the socket (until its exec), events for it carry the old generation
    /// and are dropped like those of `deregister`.
    func deregisterClosing(fd: Int32) {
        let index = Int(fd)
        if index < self.handlers.count {
            self.handlers[index] = Slot(generation: 0, handler: nil)
        }
    }

    /// Asks for `flushNow()` to be called once at the end of this loop iteration.
    package func scheduleFlush(_ target: EventLoopFlushable) {
        self.flushQueue.append(target)
    }

    /// An empty output buffer, with capacity when one was given back earlier. Loop thread only.
    @usableFromInline func takeBuffer() -> [UInt8] {
        if self.spareBuffer.capacity > 0 {
            var buffer: [UInt8] = []
            swap(&buffer, &self.spareBuffer)
            return buffer
        }
        guard let buffer = self.spareBuffers.popLast() else { return [] }
        self.spareBytes -= buffer.capacity
        return buffer
    }

    /// Takes `buffer` (leaving it empty) and keeps it for `takeBuffer` when it is small and the pool is not
    /// full. The buffer must not be shared. Loop thread only.
    func recycle(_ buffer: inout [UInt8]) {
        var taken: [UInt8] = []
        swap(&taken, &buffer)
        let capacity = taken.capacity
        guard capacity > 0, capacity <= Self.maxSpareBufferCapacity else { return }
        if self.spareBuffer.capacity == 0 {
            // The usual case at low rates (one connection writes per iteration): a swap, no pool traffic.
            taken.removeAll(keepingCapacity: true)
            swap(&taken, &self.spareBuffer)
            return
        }
        guard self.spareBuffers.count < 1024, self.spareBytes + capacity <= Self.maxSpareBytes else { return }
        taken.removeAll(keepingCapacity: true)
        self.spareBytes += capacity
        self.spareBuffers.append(taken)
    }

    /// Lends `buffer` (empty, without storage) the loop's read storage suited to a read of `count` bytes, if
    /// it keeps one (see `LoopReadStorage`). Loop thread only.
    func takeReadStorage(into buffer: inout ByteBuffer, forReadOf count: Int) {
        self.readStorage.lend(into: &buffer, forReadOf: count)
    }

    /// Takes the storage of an emptied read buffer back (leaving the buffer without storage), or frees it.
    /// Loop thread only.
    func recycleReadStorage(_ buffer: inout ByteBuffer) {
        self.readStorage.reclaim(from: &buffer)
    }

    /// Capacities of the read storage the loop keeps (0 for none), for tests. Loop thread only.
    var keptReadStorage: (small: Int, large: Int) { self.readStorage.keptCapacities }

    @usableFromInline static let maxSpareBufferCapacity = 16 * 1024
    static let maxSpareBytes = 2 * 1024 * 1024

    /// Lends `body` an empty byte array whose capacity this loop keeps between uses, for encoding something
    /// that is copied elsewhere before `body` returns (a packet into a connection's output). Loop thread only.
    /// A nested call gets a fresh array.
    public func withScratchBytes<R>(_ body: (inout [UInt8]) throws -> R) rethrows -> R {
        var bytes: [UInt8] = []
        swap(&bytes, &self.scratchBytes)
        defer {
            bytes.removeAll(keepingCapacity: bytes.capacity <= 64 * 1024)
            swap(&bytes, &self.scratchBytes)
        }
        return try body(&bytes)
    }

    // MARK: Running

    /// Runs the loop on the calling thread until `stop()`.
    func run() {
        self.threadID = pthread_self()
        self.becomeCurrent()
        let maxEvents = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: maxEvents)
        defer { events.deallocate() }
        // The clock is read three times per iteration: on waking, after the events (for the timers), and at the
        // end, which both closes the iteration's busy time (`load`) and is the next wait's reading.
        var now = monotonicNanos()
        while self.running {
            let timeout = self.computeTimeoutMillis(now: now)
            let count = epoll_wait(self.epollFD, events, Int32(maxEvents), timeout)
            let woke = monotonicNanos()
            self.wakeupCount.store(self.wakeupCount.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
            if count < 0 {
                if errno == EINTR {
                    now = woke
                    continue
                }
                break
            }
            // Tasks from other threads always come with a wakeup (see `execute`), so the task queue and its
            // lock are looked at only in iterations that saw one.
            var sawWakeup = false
            for i in 0..<Int(count) {
                let token = ceio_event_data(events + i)
                let mask = ceio_event_mask(events + i)
                if token == Self.wakeupToken {
                    self.drainWakeup()
                    sawWakeup = true
                    continue
                }
                let fd = Int(UInt32(truncatingIfNeeded: token))
                let gen = UInt32(truncatingIfNeeded: token >> 32)
                guard fd < self.handlers.count, self.handlers[fd].generation == gen,
                      let handler = self.handlers[fd].handler else { continue }
                handler.handleEvents(mask)
            }
            now = monotonicNanos()
            self.runDueTimers(now: now)
            if sawWakeup || self.tasksLeft { self.tasksLeft = self.runPendingTasks(sliceNanos: Self.taskTimeSliceNanos) }
            if !self.lagWaiters.isEmpty { self.resumeLagWaiters() }
            self.flushAll()
            now = monotonicNanos()
            self.load.addBusy(from: woke, to: now)
        }
        // Run what was queued before stop so that shutdown work (closing sessions) completes.
        if self.runPendingTasks(sliceNanos: .max) { _ = self.runPendingTasks(sliceNanos: .max) }
        self.flushAll()
        self.releaseAfterStop()
    }

    /// Closes what is still registered and lets go of everything the loop holds once it has stopped: open
    /// connections hold their loop, so a stopped loop that kept them (or timers and tasks capturing them) would
    /// stay in a cycle with them, and with it its group and whatever holds the group. Loop thread only.
    private func releaseAfterStop() {
        // Deadlines that end something run now rather than never, while their connections are still registered.
        for action in self.timers.removeFiringOnStop() { action() }
        for index in self.handlers.indices {
            guard let handler = self.handlers[index].handler else { continue }
            handler.loopStopped()
            self.handlers[index] = Slot(generation: 0, handler: nil)
        }
        // What those closes queued (a session hopping back to this loop) runs too, then the loop refuses work.
        if self.runPendingTasks(sliceNanos: .max) { _ = self.runPendingTasks(sliceNanos: .max) }
        self.flushAll()
        let dropped = self.pending.withLock { state -> [@Sendable () -> Void] in
            state.stopped = true
            var tasks: [@Sendable () -> Void] = []
            swap(&tasks, &state.tasks)
            return tasks
        }
        self.taskDepth.store(0, ordering: .relaxed)
        // Dropped outside the lock: a task's captures may run deinits that call `execute`.
        withExtendedLifetime(dropped) {}
        self.runningTasks = []
        self.taskCursor = 0
        self.handlers = []
        let actions = self.timers.removeAllActions()
        withExtendedLifetime(actions) {}
        self.flushQueue = []
        self.flushing = []
        self.lagTarget = nil
        self.lagWaiters = []
    }

    /// Stops the loop after its current iteration. Safe from any thread.
    func stop() {
        self.execute { [unowned self] in self.running = false }
    }

    /// Refuses further tasks; called after the loop thread has ended.
    func markStopped() {
        self.pending.withLock { $0.stopped = true }
    }

    private func computeTimeoutMillis(now: UInt64) -> Int32 {
        if !self.flushQueue.isEmpty || self.tasksLeft { return 0 }
        // Readers waiting for another loop to catch up look again each millisecond.
        let cap: UInt64 = self.lagWaiters.isEmpty ? 60_000 : 1
        guard let deadline = self.timers.earliestDeadline else { return cap == 1 ? 1 : -1 }
        if deadline <= now { return 0 }
        let millis = (deadline - now + 999_999) / 1_000_000
        return Int32(min(millis, cap))
    }

    private func drainWakeup() {
        var value: UInt64 = 0
        _ = read(self.wakeupFD, &value, 8)
    }

    // Inlined into `run`, as they were before the loop measured its busy time: called out of line, the two
    // cost about 60 instructions more per wakeup (callgrind, the 200 msgs/s run).
    @inline(__always)
    private func runDueTimers(now: UInt64) {
        guard !self.timers.isEmpty else { return }
        while let timer = self.timers.popDue(now: now) {
            timer.takeAction()?()
        }
    }

    /// Runs the queued tasks, one batch per iteration as taken from the queue, for about `sliceNanos`
    /// (checked every few tasks); true when the loop must come back without a wakeup. A loop that is fed
    /// faster than it runs (a broadcast hop per message of a flooding peer) thus still reads its own
    /// connections between slices, instead of running a queue that grew for seconds in one go.
    private func runPendingTasks(sliceNanos: UInt64) -> Bool {
        let carried = self.taskCursor < self.runningTasks.count
        if !carried {
            // Swap the queued tasks with the emptied array of the previous batch: no copy, no allocation.
            self.pending.withLock { state in
                state.wakeupPending = false
                swap(&self.runningTasks, &state.tasks)
            }
            self.taskCursor = 0
            if self.runningTasks.isEmpty { return false }
        }
        let start = monotonicNanos()
        var ran = 0
        defer { self.taskDepth.subtract(ran, ordering: .relaxed) }
        while self.taskCursor < self.runningTasks.count {
            let task = self.runningTasks[self.taskCursor]
            self.taskCursor += 1
            task()
            ran += 1
            if ran & 7 == 0 && self.taskCursor < self.runningTasks.count && monotonicNanos() &- start > sliceNanos {
                return true
            }
        }
        self.runningTasks.removeAll(keepingCapacity: self.runningTasks.capacity <= 1024)
        self.taskCursor = 0
        // The wakeup for tasks queued while a carried batch ran may have been read already: look next time.
        return carried
    }

    /// How long queued tasks run before the loop looks at its connections again.
    static let taskTimeSliceNanos: UInt64 = 1_000_000

    @inline(__always)
    private func flushAll() {
        // Flushing may schedule more flushes (a close after flush); loop until quiet. The two queues are
        // swapped rather than copied, so a busy loop does not allocate here. Targets are taken from the back:
        // each is moved out (no retain) and the emptied array needs no pass that destroys its elements, about
        // 150 instructions per wakeup at low rates. The order among connections of one batch does not matter.
        while !self.flushQueue.isEmpty {
            swap(&self.flushing, &self.flushQueue)
            while let target = self.flushing.popLast() { target.flush(from: self) }
            if self.flushing.capacity > 4096 { self.flushing = [] }
        }
    }
}

/// Failures of the loop's system calls.
public enum EventLoopError: Error, CustomStringConvertible, Sendable {
    case system(String, Int32)
    case invalidAddress(String)

    public var description: String {
        switch self {
        case .system(let call, let code): return "\(call) failed: errno \(code)"
        case .invalidAddress(let text): return "invalid address: \(text)"
        }
    }
}
