import CLibPQ
import Foundation
import Synchronization

/// A connection of its own that LISTENs on one channel and hands every NOTIFY payload to `onNotify`, on a
/// thread of its own (it blocks in poll(2), never on an event loop or the core's queue).
///
/// When the connection drops (a PostgreSQL restart) it reconnects every `retrySeconds` and calls `onConnect`
/// each time it is listening again: notifications sent meanwhile are lost, so the caller sweeps its queues.
/// `onDisconnect` runs whenever it stops listening (the connection broke, or `stop`).
final class PostgresListener: Sendable {
    let url: String
    let channel: String
    private let stopped = Atomic<Bool>(false)
    private let onNotify: @Sendable (String) -> Void
    private let onConnect: @Sendable () -> Void
    private let onDisconnect: @Sendable () -> Void
    /// How long one poll(2) waits, so that `stop` is noticed.
    static let pollMillis: Int32 = 250
    static let retrySeconds = 0.5

    init(url: String, channel: String, onNotify: @escaping @Sendable (String) -> Void,
         onConnect: @escaping @Sendable () -> Void, onDisconnect: @escaping @Sendable () -> Void = {}) {
        self.url = url
        self.channel = channel
        self.onNotify = onNotify
        self.onConnect = onConnect
        self.onDisconnect = onDisconnect
    }

    /// Starts the listening thread.
    func start() {
        let thread = Thread { [self] in self.run() }
        thread.name = "spaces.listen"
        thread.start()
    }

    /// Ends the thread within one poll interval.
    func stop() {
        self.stopped.store(true, ordering: .relaxed)
        self.onDisconnect()
    }

    private var isStopped: Bool { self.stopped.load(ordering: .relaxed) }

    private func run() {
        while !self.isStopped {
            if let connection = try? PostgresConnection(url: self.url, connectTimeoutSeconds: 2),
               (try? connection.execute("LISTEN \(self.channel)")) != nil {
                self.onConnect()
                self.listen(on: connection)
                self.onDisconnect()
                connection.close()
            }
            let resume = Date().addingTimeInterval(Self.retrySeconds)
            while !self.isStopped && Date() < resume { usleep(50_000) }
        }
    }

    /// Delivers notifications until the connection breaks or the listener stops.
    private func listen(on connection: PostgresConnection) {
        guard let handle = connection.handle else { return }
        let socket = PQsocket(handle)
        while !self.isStopped {
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Self.pollMillis)
            if ready < 0 && errno != EINTR { return }
            if ready <= 0 { continue }
            guard PQconsumeInput(handle) == 1, PQstatus(handle) == CONNECTION_OK else { return }
            while let notification = PQnotifies(handle) {
                let payload = notification.pointee.extra.map { String(cString: $0) } ?? ""
                PQfreemem(notification)
                self.onNotify(payload)
            }
        }
    }
}
