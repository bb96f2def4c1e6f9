import Foundation
import Synchronization

/// Things handlers saw, for tests to wait on (bounded waits only).
public final class EventRecorder: Sendable {
    private let entries = Mutex<[String]>([])
    private let defaultTimeout: TimeInterval

    /// `defaultTimeout` bounds the waits that name no timeout of their own.
    public init(defaultTimeout: TimeInterval) {
        self.defaultTimeout = defaultTimeout
    }

    /// Appends `entry`; safe from any thread.
    public func record(_ entry: String) {
        self.entries.withLock { $0.append(entry) }
    }

    /// Everything recorded so far, in order.
    public var all: [String] { self.entries.withLock { $0 } }

    /// How many times `entry` was recorded.
    public func count(_ entry: String) -> Int { self.all.filter { $0 == entry }.count }

    /// Waits until `condition` holds on the entries; returns whether it did within `timeout`.
    @discardableResult
    public func wait(timeout: TimeInterval? = nil, until condition: ([String]) -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout ?? self.defaultTimeout)
        while true {
            if condition(self.all) { return true }
            if Date() >= deadline { return false }
            usleep(2_000)
        }
    }

    /// Waits until `entry` was recorded.
    @discardableResult
    public func wait(for entry: String, timeout: TimeInterval? = nil) -> Bool {
        self.wait(timeout: timeout) { $0.contains(entry) }
    }
}
