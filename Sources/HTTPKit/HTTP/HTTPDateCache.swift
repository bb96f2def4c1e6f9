import Foundation

/// The current `Date` header value, formatted at most once per second and shareable across threads.
///
/// Formatting a date per response is measurable at high request rates; a lock held for a compare and an
/// array copy is not.
public final class HTTPDateCache: @unchecked Sendable {
    /// A process-wide cache, used by `HTTPResponseEncoder` by default.
    public static let shared = HTTPDateCache()

    // Guarded by `lock`; that is what makes the `@unchecked Sendable` sound.
    private let lock = NSLock()
    private var second = Int.min
    private var bytes: [UInt8] = []
    private let clock: @Sendable () -> Int

    /// Creates a cache; `clock` returns Unix seconds and exists so tests can pin the time.
    /// The default reads the clock through `time` (Foundation's `Date()` cost about 70 instructions more per
    /// response).
    public init(clock: @escaping @Sendable () -> Int = { Int(time(nil)) }) {
        self.clock = clock
    }

    /// The IMF-fixdate of the current second as ASCII bytes.
    public func currentBytes() -> [UInt8] {
        let now = self.clock()
        self.lock.lock()
        defer { self.lock.unlock() }
        if now != self.second {
            self.second = now
            self.bytes = Array(HTTPDate.format(epochSeconds: now).utf8)
        }
        return self.bytes
    }
}
