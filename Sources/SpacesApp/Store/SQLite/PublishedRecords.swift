import Synchronization

/// Requests and users the SQLite store holds, as committed, readable from any thread: a status read of a request
/// this node keeps in memory is answered on the HTTP task without a trip to the core's queue.
///
/// Written by the store on the core's queue only. A row the store writes is taken out at once (before its
/// commit), and the row as committed is put back when the job of the queue ends; a rolled-back transaction or
/// another connection's commit (seen at the next job) empties it. A row not here is read through the core.
final class PublishedRecords: Sendable {
    /// Bounded as the store's own cache: two generations of request text, users up to a count.
    private let records = Mutex(RecordCache())

    /// The request as last committed by this node, when it is kept.
    func request(id: String) -> RequestRecord? {
        self.records.withLock { $0.request(id: id) }
    }

    /// The account, when it is kept.
    func user(id: Int64) -> User? {
        self.records.withLock { $0.user(id: id) }
    }

    func forgetRequest(id: String) {
        self.records.withLock { $0.forgetRequest(id: id) }
    }

    func forgetUser(id: Int64) {
        self.records.withLock { $0.forgetUser(id: id) }
    }

    /// Puts back the rows of one job of the core's queue, as the database now holds them.
    func publish(requests: [RequestRecord], users: [User]) {
        self.records.withLock { records in
            for request in requests { records.keep(request) }
            for user in users { records.keep(user) }
        }
    }

    func removeAll() {
        self.records.withLock { $0.removeAll() }
    }
}
