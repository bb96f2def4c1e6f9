extension SpacesCore {
    /// Runs `body` on the queue with the request `id` (nil: there is none) and hands its result to `completion`
    /// once durable, as `perform` does. Reads that wait for the queue at the same time are read together
    /// (`SpacesStore.requests(ids:)`): one statement for all of them on PostgreSQL.
    func withRequest<T>(id: String, _ body: @escaping @Sendable (RequestRecord?) throws -> T,
                        completion: @escaping @Sendable (Result<T, any Error>) -> Void) {
        let read = RequestReadBatch.Waiting(id: id) { record in
            let result = Result { try body(record.get()) }
            self.whenDurable { completion(result) }
        }
        if self.requestReads.add(read) {
            self.post { self.readWaitingRequests() }
        }
    }

    /// Reads every request waiting in `requestReads` and resumes each read (on the queue).
    private func readWaitingRequests() {
        let reads = self.requestReads.takeAll()
        var ids: [String] = []
        ids.reserveCapacity(reads.count)
        var seen = Set<String>(minimumCapacity: reads.count)
        for read in reads where seen.insert(read.id).inserted { ids.append(read.id) }
        let records = Result { try self.store.requests(ids: ids) }
        for read in reads {
            read.resume(records.map { $0[read.id] })
        }
    }
}
