import Foundation

/// A checked submission whose row is being committed to the shared queue (off the core's queue).
struct PendingSubmit: Sendable {
    let record: RequestRecord
    let space: Space
    let submitter: Submitter
    let rules: SubmissionRules
    /// The NOTIFY payload that wakes the other nodes when it commits queued.
    let wake: String
    /// A free slot of this node reserved for it (in that registration's `inFlight`, and in `reservedSlots`):
    /// claimed in the same statement when nobody waits ahead, so the slot must not be given to another request
    /// while the commit runs.
    let slot: ClusterSlot?
    /// `queueNews` when it was prepared.
    let queueNews: UInt64
}

/// Submissions on a cluster in three steps: checked and a slot reserved on the queue (`prepareAccept`), the row
/// committed anywhere (`commitAccept`), the outcome applied on the queue (`finishAccept`). Only the last sends
/// the request to a worker, so nothing is dispatched before its row is durable.
extension SpacesCore {
    /// On the queue: the limits to check and, when a local worker has a free slot, that slot, reserved.
    func prepareAccept(_ record: RequestRecord, space: Space, submitter: Submitter) -> PendingSubmit {
        let rules = SubmissionRules(rateLimitSeconds: space.rateLimitSeconds, dailyQuota: submitter.dailyQuota,
                                    dayStart: ISOTime.startOfDay(record.createdAt))
        let slot = self.draining ? nil : self.freeSlots(of: self.holders[space.id] ?? [], spaceID: space.id, space: space)
            .first.map { ClusterSlot(workerID: $0, nodeID: self.nodeID) }
        if let slot {
            self.workers[slot.workerID]?.registrations[space.id]?.inFlight.insert(record.id)
            self.reservedSlots[record.id] = (space.id, slot.workerID)
        }
        return PendingSubmit(record: record, space: space, submitter: submitter, rules: rules,
                             wake: "\(ClusterWake.queued.rawValue) \(space.id) \(self.nodeID)", slot: slot,
                             queueNews: self.queueNews)
    }

    /// On any thread: stores the request for the whole cluster (rate limit and daily quota checked atomically
    /// with the insert), claimed for the reserved slot when nothing waits ahead of it. Returns once committed.
    func commitAccept(_ pending: PendingSubmit) -> Result<SubmissionOutcome, any Error> {
        guard let cluster = self.cluster else { return .failure(APIError(500, "storage_error", "No shared queue")) }
        return Result {
            try cluster.acceptRequest(pending.record, rules: pending.rules, wake: pending.wake, claim: pending.slot)
        }
    }

    /// On the queue: applies what `commitAccept` found. A request claimed for the reserved slot goes to its worker
    /// (or back to the queue, when the worker left or the node is stopping meanwhile); a queued one may be
    /// claimed now; a refused one has its files removed. The slot, when unused, is free again.
    func finishAccept(_ pending: PendingSubmit, _ committed: Result<SubmissionOutcome, any Error>) throws(APIError)
        -> RequestRecord
    {
        let record = pending.record, space = pending.space
        let slotStillHeld = self.releaseReservedSlot(of: record.id)
        let refusal: APIError
        switch committed {
        case .success(.accepted(var stored)):
            self.metrics.submitted += 1
            if stored.status == .processing, let workerID = stored.workerID {
                if slotStillHeld && !self.draining {
                    // Nothing was queued ahead of it when it committed: the queue is empty, as far as this node
                    // knows, unless it heard of a queued request since (another commit, a wake-up).
                    if self.queueNews == pending.queueNews { self.membership?.drainedQueues.insert(space.id) }
                    // Its timeout and the dispatch wait count from now: the worker had to wait for the commit.
                    self.deliver(stored, to: workerID, space: space, now: self.clock())
                    return stored
                }
                stored = self.handBack(stored, from: workerID) ?? stored
            } else {
                self.queueMayHoldRequests(space.id)
            }
            self.claimForLocalWorkers(spaceID: space.id, space: space)
            // Claimed here just now: `deliver` published it and the row cache holds it. Otherwise it is queued as far
            // as this node knows (another node may claim it any moment): no need to read it again.
            if self.inFlight[stored.id] != nil { return (try? self.store.request(id: stored.id)) ?? nil ?? stored }
            self.publish(stored)
            return stored
        case .success(.rateLimited(let retryAfter)):
            refusal = Self.rateLimited(retryAfter: retryAfter)
        case .success(.quotaExceeded(let used)):
            refusal = Self.quotaExceeded(pending.submitter.dailyQuota, used: used)
        case .failure(let error as APIError):
            refusal = error
        case .failure(let error):
            Log.info("could not save request \(record.id): \(error)")
            refusal = APIError.store(error, fallback: APIError(500, "storage_error", "Could not save the request"))
        }
        self.removeFiles(of: record.id)
        if pending.slot != nil { self.claimForLocalWorkers(spaceID: space.id, space: space) }
        throw refusal
    }

    /// Frees the slot reserved for `requestID`; true when its worker still holds it (it did not leave, and the
    /// node did not forget its requests, meanwhile).
    private func releaseReservedSlot(of requestID: String) -> Bool {
        guard let (spaceID, workerID) = self.reservedSlots.removeValue(forKey: requestID) else { return false }
        return self.workers[workerID]?.registrations[spaceID]?.inFlight.remove(requestID) != nil
    }

    /// A request committed as claimed for a slot that is gone: back to the head of its queue, the delivery not
    /// counted (no worker saw it), and the other nodes woken.
    /// Returns the request as it is now (nil when it could not be moved).
    private func handBack(_ record: RequestRecord, from workerID: String) -> RequestRecord? {
        let returned: RequestRecord?
        do {
            returned = try self.cluster?.returnToQueue(requestID: record.id, workerID: workerID, countDelivery: false,
                                                       maxDeliveries: self.options.maxDeliveries, now: self.clock())
        } catch {
            // The reconciliation returns it once the database answers again (this node does not hold it).
            Log.info("could not hand back request \(record.id): \(error)")
            return nil
        }
        self.queueMayHoldRequests(record.spaceID)
        self.wake(.queued, String(record.spaceID))
        return returned
    }
}
