import Foundation
import SocketIO

/// The queue operations that differ when every node shares the queue in PostgreSQL (on the core's queue).
/// This node keeps only what is its own: its workers' sockets, and the requests they hold (for results,
/// progress, timeouts and cancels); the FIFOs, registrations and limits are the database's.
extension SpacesCore {
    /// Whether `space` takes one more worker: on a cluster, counted and recorded for every node at once.
    func admitsWorker(_ channel: WorkerChannel, space: Space, concurrency: Int, now: Double) -> Bool {
        guard let cluster else { return self.workerCount(spaceID: space.id) < max(1, space.maxWorkers) }
        let row = ClusterRegistration(workerID: channel.id, spaceID: space.id, nodeID: self.nodeID,
                                      concurrency: concurrency, address: channel.address, registeredAt: now)
        do {
            return try cluster.addRegistration(row, maxWorkers: space.maxWorkers)
        } catch {
            Log.info("registration of \(channel.id) not recorded: \(error)")
            return false
        }
    }

    /// A worker of this node went away: its registrations are dropped everywhere and what it held goes back to
    /// the head of the queue (counted as a delivery), where any node may claim it.
    func clusterWorkerGone(_ channelID: String, _ entry: WorkerEntry) {
        guard let cluster else { return }
        let now = self.clock()
        do {
            try cluster.removeRegistrations(workerID: channelID)
        } catch {
            // This node's row stays, so the reaper will not drop them: try again when the database returns.
            self.whenStoreReturns(error) { core in try? core.cluster?.removeRegistrations(workerID: channelID) }
        }
        for (spaceID, registration) in entry.registrations {
            self.holders[spaceID]?.removeAll { $0 == channelID }
            if self.holders[spaceID]?.isEmpty == true { self.holders[spaceID] = nil }
            var returned = 0
            // A slot reserved for a submission still committing is handed back by `finishAccept`.
            for requestID in registration.inFlight.sorted() where self.reservedSlots[requestID] == nil {
                self.inFlight[requestID] = nil
                guard let record = try? cluster.returnToQueue(requestID: requestID, workerID: channelID, countDelivery: true,
                                                              maxDeliveries: self.options.maxDeliveries, now: now) else { continue }
                if record.status == .queued {
                    returned += 1
                    self.metrics.redelivered += 1
                }
                self.publish(record)
            }
            if returned > 0 {
                self.queueMayHoldRequests(spaceID)
                self.wake(.queued, String(spaceID))
            }
            Log.info("worker \(channelID) left space #\(spaceID) (\(returned) request(s) back to the queue)")
            self.dispatch(spaceID: spaceID)
            self.spaceChanged(spaceID)
        }
    }

    /// Claims heads of `spaceID`'s shared queue for every free slot of this node's workers in one statement, and
    /// sends them. Other nodes claim concurrently; `SKIP LOCKED` gives each request to exactly one.
    func claimForLocalWorkers(spaceID: Int64, space known: Space? = nil) {
        guard let cluster, !self.draining, let workerIDs = self.holders[spaceID], !workerIDs.isEmpty else { return }
        // Registrations cap their concurrency at the space's: with every slot taken, no need to read the space.
        let anyFree = workerIDs.contains { id in
            self.workers[id]?.registrations[spaceID].map { $0.inFlight.count < $0.concurrency } ?? false
        }
        guard anyFree, self.membership?.drainedQueues.contains(spaceID) != true,
              let space = known ?? (try? self.store.space(id: spaceID)) else { return }
        let slots = self.freeSlots(of: workerIDs, spaceID: spaceID, space: space)
        guard !slots.isEmpty else { return }
        let now = self.clock()
        let claimed: [RequestRecord]
        do {
            claimed = try cluster.claimHeads(spaceID: spaceID, workerIDs: slots, nodeID: self.nodeID, now: now)
        } catch {
            Log.info("claim in space #\(spaceID) failed: \(error)")
            self.whenStoreReturns(error) { $0.dispatch(spaceID: spaceID) }
            return
        }
        // Fewer than asked: nothing else is queued (rows other nodes were locking are theirs to claim).
        if claimed.count < slots.count { self.membership?.drainedQueues.insert(spaceID) }
        for record in claimed { self.send(claimed: record, space: space, now: now) }
    }

    /// The slot a result frees, for a claim in the result's own statement (one round trip, not two): only when it
    /// is the one free slot of `spaceID` here and its queue may hold requests. Several go to `claimForLocalWorkers`.
    func slotForClaimWithResult(spaceID: Int64) -> (slot: ClusterSlot, space: Space)? {
        guard self.cluster != nil, !self.draining, let workerIDs = self.holders[spaceID], !workerIDs.isEmpty,
              self.membership?.drainedQueues.contains(spaceID) != true,
              let space = try? self.store.space(id: spaceID) else { return nil }
        let slots = self.freeSlots(of: workerIDs, spaceID: spaceID, space: space)
        guard slots.count == 1, let workerID = slots.first else { return nil }
        return (ClusterSlot(workerID: workerID, nodeID: self.nodeID), space)
    }

    /// Sends what the result's statement claimed for the slot; nothing claimed: nothing is queued (as in
    /// `claimForLocalWorkers`).
    func sendClaimedWithResult(_ claimed: RequestRecord?, spaceID: Int64, space: Space, now: Double) {
        guard let claimed else {
            self.membership?.drainedQueues.insert(spaceID)
            return
        }
        self.send(claimed: claimed, space: space, now: now)
    }

    /// Sends a request this node claimed to the worker it was claimed for, and holds it.
    private func send(claimed record: RequestRecord, space: Space, now: Double) {
        guard let workerID = record.workerID else { return }
        self.deliver(record, to: workerID, space: space, now: now)
    }

    /// Every free slot of `workerIDs` in the order `freestWorker` would fill them one by one: the worker with
    /// the most free slots first, earliest registered on ties.
    func freeSlots(of workerIDs: [String], spaceID: Int64, space: Space) -> [String] {
        var free: [(id: String, count: Int)] = workerIDs.compactMap { id in
            guard let registration = self.workers[id]?.registrations[spaceID] else { return nil }
            let limit = max(1, min(registration.concurrency, max(1, space.maxConcurrency)))
            return (id, limit - registration.inFlight.count)
        }
        var slots: [String] = []
        while true {
            var best: Int?
            for index in free.indices where free[index].count > 0 && free[index].count > (best.map { free[$0].count } ?? 0) {
                best = index
            }
            guard let chosen = best else { return slots }
            slots.append(free[chosen].id)
            free[chosen].count -= 1
        }
    }

    /// Requests may wait in `spaceID`'s shared queue: the next free slot claims (see `drainedQueues`).
    func queueMayHoldRequests(_ spaceID: Int64) {
        self.membership?.drainedQueues.remove(spaceID)
        self.queueNews &+= 1
    }

    /// Whether a worker serves `spaceID` anywhere: one of this node's answers without asking the database.
    ///
    /// A node without a worker of its own would otherwise count the cluster's registrations on every submit, so
    /// a yes is reused for a second (as `queueSizeForLimit` reuses its count). A request accepted just after
    /// the last worker left waits in the queue for the next one, as one accepted just before it does; a no is
    /// never reused, so a worker that just registered elsewhere is seen at once.
    func hasWorker(spaceID: Int64) -> Bool {
        if self.holders[spaceID]?.isEmpty == false { return true }
        guard self.cluster != nil else { return false }
        let now = self.clock()
        if let seen = self.workerSeenElsewhere[spaceID], now >= seen, now - seen < 1 { return true }
        guard self.workerCount(spaceID: spaceID) > 0 else {
            self.workerSeenElsewhere[spaceID] = nil
            return false
        }
        self.workerSeenElsewhere[spaceID] = now
        return true
    }

    func removeFiles(of requestID: String) {
        try? FileManager.default.removeItem(atPath: self.options.uploadsDirectory + "/" + requestID)
    }
}
