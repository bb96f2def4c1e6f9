/// Group commit on SQLite. The first write of a job opens a transaction (`SQLiteStore.gatheringOpened`) and a
/// commit job is posted behind the jobs already waiting: their writes (submissions, results, dispatches) join
/// it, so a busy queue commits once for many requests instead of twice per request. Until that commit, nothing
/// that shows what those jobs wrote leaves the queue: answers, messages to workers and live updates wait in
/// `afterCommit`, so a request reaches a worker, and a submitter hears 200, only once its row is in the file.
struct AfterCommit {
    /// The request the action is about, when its row was inserted in the same transaction.
    let requestID: String?
    let run: () -> Void
    /// Instead of `run` when that row could not be saved.
    let unsaved: ((any Error) -> Void)?
}

extension SpacesCore {
    /// Runs `action` on the queue once what the jobs so far wrote is durable: now when no write waits for its
    /// commit, else right after it. When `requestID` was inserted in that transaction and could not be saved,
    /// `unsaved` runs instead (with the error), or nothing.
    func whenDurable(request requestID: String? = nil, _ action: @escaping () -> Void,
                     unsaved: ((any Error) -> Void)? = nil) {
        guard self.sqliteStore?.isGathering == true else {
            action()
            return
        }
        self.afterCommit.append(AfterCommit(requestID: requestID, run: action, unsaved: unsaved))
    }

    /// Notes that `record` was inserted in the open transaction (for `commitGathered`'s failure path).
    func insertedWhileGathering(_ record: RequestRecord) {
        if self.sqliteStore?.isGathering == true {
            self.gatheredSubmits[record.id] = (record.spaceID, record.queueOrder)
        }
    }

    /// Commits the writes gathered so far and runs what waited for them. A request whose INSERT could not be
    /// made even on its own is forgotten (its slot or queue place freed, its message never sent) and its
    /// submitter gets the error.
    func commitGathered() {
        guard let sqlite = self.sqliteStore, sqlite.isGathering else { return }
        let unsaved = sqlite.commitGathered()
        let submits = self.gatheredSubmits
        self.gatheredSubmits = [:]
        let waiting = self.afterCommit
        self.afterCommit = []
        var freed: Set<Int64> = []
        for (requestID, place) in submits where unsaved[requestID] != nil {
            Log.info("could not save request \(requestID): \(unsaved[requestID].map { "\($0)" } ?? "")")
            if let flight = self.inFlight.removeValue(forKey: requestID) {
                self.workers[flight.workerID]?.registrations[flight.spaceID]?.inFlight.remove(requestID)
            }
            self.fifos[place.spaceID]?.remove(id: requestID, order: place.order)
            self.queuedPayloads[requestID] = nil
            self.metrics.submitted -= 1
            freed.insert(place.spaceID)
        }
        for entry in waiting {
            if let requestID = entry.requestID, let error = unsaved[requestID] {
                entry.unsaved?(error)
            } else {
                entry.run()
            }
        }
        for spaceID in freed.sorted() { self.dispatch(spaceID: spaceID) }
    }
}
