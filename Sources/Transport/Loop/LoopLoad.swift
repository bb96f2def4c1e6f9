import Synchronization

/// How busy one event loop has been lately: the share of wall time it spent outside `epoll_wait`, measured by
/// the loop over windows of `windowNanos` and read by other threads to place new connections
/// (`EventLoopGroup.loopForNewConnection`). A loop that sleeps through a whole window publishes nothing, so a
/// reader scales the last share down by the time since that window began.
final class LoopLoad: @unchecked Sendable {
    // Invariant for @unchecked Sendable: the `var`s are touched on the loop thread only; other threads read
    // `published` alone.
    /// Measuring windows: short enough that a loop that just became busy shows it, long enough that one
    /// burst of handshakes does not.
    static let windowNanos: UInt64 = 100_000_000

    /// The last full window, packed: its start in units of 2^20 ns (about 1 ms) above, its busy share in
    /// per mille in the low 16 bits. One word, so a reader never sees a start with another window's share.
    private let published = Atomic<UInt64>(0)
    /// Loop thread only: the window being measured.
    @exclusivity(unchecked) private var windowStart: UInt64
    @exclusivity(unchecked) private var busyNanos: UInt64 = 0

    init(now: UInt64) {
        self.windowStart = now
    }

    /// Adds one iteration's busy time (from the end of `epoll_wait` to `end`); rolls the window over when it is
    /// full. Loop thread only.
    @inline(__always)
    func addBusy(from woke: UInt64, to end: UInt64) {
        self.busyNanos &+= end &- woke
        if end &- self.windowStart >= Self.windowNanos { self.roll(at: end) }
    }

    private func roll(at end: UInt64) {
        let length = end &- self.windowStart
        let permille = min(1000, self.busyNanos &* 1000 / max(1, length))
        self.published.store((self.windowStart >> 20) << 16 | permille, ordering: .relaxed)
        self.windowStart = end
        self.busyNanos = 0
    }

    /// The busy share in per mille of the last window, scaled down by the time since it began when that is
    /// longer than a window (the loop slept since). Safe from any thread.
    func recentPermille(now: UInt64) -> Int {
        let word = self.published.load(ordering: .relaxed)
        let permille = word & 0xFFFF
        guard permille > 0 else { return 0 }
        let start = (word >> 16) << 20
        let elapsed = now > start ? now - start : 0
        // A published window spans about one window; more time since its start means the loop slept.
        let span = max(elapsed, Self.windowNanos)
        return Int(permille &* Self.windowNanos / span)
    }
}
