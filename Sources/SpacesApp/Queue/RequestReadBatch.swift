import Synchronization

/// Reads of requests by id (status calls) waiting for the core's queue. They are taken together when the queue
/// gets to them, so that a node on PostgreSQL reads every request that waited in one statement: while the queue
/// is busy with one round trip, the next status calls gather behind it instead of each making their own.
final class RequestReadBatch: Sendable {
    /// One waiting read: the request's id and what to do with it once read (on the core's queue).
    struct Waiting: Sendable {
        let id: String
        let resume: @Sendable (Result<RequestRecord?, any Error>) -> Void
    }

    private let waiting = Mutex<[Waiting]>([])

    /// Adds `read`; true when nothing else was waiting, so that the caller schedules the queue's turn for it.
    func add(_ read: Waiting) -> Bool {
        self.waiting.withLock { waiting in
            waiting.append(read)
            return waiting.count == 1
        }
    }

    /// How many reads wait (for tests).
    var waitingCount: Int { self.waiting.withLock { $0.count } }

    /// Takes every read waiting now (a read added later schedules a turn of its own).
    func takeAll() -> [Waiting] {
        self.waiting.withLock { waiting in
            defer { waiting.removeAll(keepingCapacity: true) }
            return waiting
        }
    }
}
