import SocketIO
import Synchronization

/// What one node of the cluster test app knows about itself: the port it listens on (known only once the
/// server is bound, after the handlers are installed) and the server-side `notify` events it received, per
/// namespace, for `server-side-received`.
final class ClusterNode: Sendable {
    private let boundPort = Atomic<Int>(0)
    private let notifications = Mutex<[String: [JSONValue]]>([:])
    /// Bound on the recorded notifications per namespace, so a chatty peer cannot grow memory forever.
    static let maxRecorded = 1_000

    /// The listening port, 0 until `bind(port:)`.
    var port: Int { self.boundPort.load(ordering: .acquiring) }

    func bind(port: Int) {
        self.boundPort.store(port, ordering: .releasing)
    }

    /// Records the arguments of one `notify` received on `namespace`.
    func record(notification args: [JSONValue], namespace: String) {
        self.notifications.withLock { recorded in
            var list = recorded[namespace, default: []]
            if list.count >= Self.maxRecorded { list.removeFirst() }
            list.append(.array(args))
            recorded[namespace] = list
        }
    }

    /// The argument arrays recorded on `namespace`, oldest first.
    func notifications(namespace: String) -> [JSONValue] {
        self.notifications.withLock { $0[namespace] ?? [] }
    }
}
