import Synchronization

/// Holds an owner's `onStateChange` handler, settable from any thread, called on the loop.
final class StateObserver: Sendable {
    private let handler = Mutex<(@Sendable (RedisConnectionState) -> Void)?>(nil)

    var current: (@Sendable (RedisConnectionState) -> Void)? {
        get { self.handler.withLock { $0 } }
        set { self.handler.withLock { $0 = newValue } }
    }

    func notify(_ state: RedisConnectionState) {
        self.current?(state)
    }
}
