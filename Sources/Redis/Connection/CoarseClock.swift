import Glibc

/// The monotonic clock at the kernel tick's resolution (a few milliseconds) and a fraction of the cost of a
/// full reading: every command gets a deadline, and PUBLISH is the hot path. It lags `monotonicNanos()` by
/// at most a tick, so a command timeout may end that much early, which a timeout of seconds does not notice.
@inline(__always)
func coarseMonotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}
