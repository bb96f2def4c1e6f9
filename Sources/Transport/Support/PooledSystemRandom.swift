import CEngineIOShims

/// The system's cryptographically secure generator (getrandom), read through a per-thread pool of 512
/// bytes: as unpredictable as `SystemRandomNumberGenerator`, without a system call for each value (a new
/// connection takes 32 random bytes for its session and socket ids).
public struct PooledSystemRandom: RandomNumberGenerator {
    /// A generator on the calling thread's pool (the pool is per thread, not per value).
    public init() {}

    /// The next eight random bytes.
    public mutating func next() -> UInt64 {
        var value: UInt64 = 0
        if ceio_random_bytes(&value, MemoryLayout<UInt64>.size) == 0 { return value }
        // getrandom failed (it does not on Linux ≥ 3.17 once booted); the standard generator decides.
        var system = SystemRandomNumberGenerator()
        return system.next()
    }
}
