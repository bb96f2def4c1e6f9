import Glibc

/// Opens connections to unix domain stream sockets (e.g. `/run/redis/redis.sock`) on an event loop. The result
/// is a `TCPConnection` like any other: the connection type only moves bytes and does not care about the family.
public enum UnixSocketConnector {
    /// Connects to the socket at `path` and calls `completion` on `loop`'s thread with a started connection
    /// whose `handler` is still nil: set it inside `completion`. Never blocks the loop. A server whose backlog is
    /// full refuses at once (EAGAIN) rather than making the connect wait: the caller's retry policy decides.
    public static func connect(
        path: String, on loop: EventLoop, timeoutMillis: Int = 10_000,
        _ completion: @escaping @Sendable (Result<TCPConnection, TCPConnectError>) -> Void
    ) {
        let deadline = monotonicNanos() &+ UInt64(max(1, timeoutMillis)) &* 1_000_000
        guard let address = SocketAddress.unix(path: path) else {
            loop.execute { completion(.failure(.connectFailed(address: "unix:\(path)", errno: ENAMETOOLONG))) }
            return
        }
        // `execute` even on the loop: the completion never runs inside the caller's own call.
        loop.execute {
            ConnectAttempt(loop: loop, addresses: [address], deadline: deadline, completion: completion).start()
        }
    }
}
