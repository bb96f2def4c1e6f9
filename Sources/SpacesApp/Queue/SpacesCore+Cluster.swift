import Foundation

/// The node's life in the cluster (on the core's queue): joining, its lease, reaping lost nodes, wake-ups.
extension SpacesCore {
    /// Adds this node to `nodes`, sends back the requests of nodes already gone, and starts the lease, the
    /// reaper and the listener.
    func joinCluster() throws {
        guard let cluster else { return }
        let returned = try cluster.joinCluster(nodeID: self.nodeID, address: self.nodeAddress,
                                               leaseSeconds: ClusterMembership.leaseSeconds,
                                               maxDeliveries: self.options.maxDeliveries, now: self.clock())
        for spaceID in Set(returned.map(\.spaceID)).sorted() { self.wake(.queued, String(spaceID)) }
        let membership = ClusterMembership()
        membership.databaseUpSince = self.clock()
        self.membership = membership
        self.reapLostNodes()
        // This node hears its own wake-ups too: they are dropped on the listener's thread, not posted to the queue.
        let ownSuffix = " " + self.nodeID
        let listener = cluster.wakeListener(
            onWake: { [weak self] payload in
                guard let core = self, !payload.hasSuffix(ownSuffix) else { return }
                core.post { core.handleWake(payload) }
            },
            onConnect: { [weak self] in
                guard let core = self else { return }
                // Reconnected: the database may have restarted, losing claims and results it had not yet flushed.
                core.post {
                    core.reconcileHeldRequests()
                    core.sweepQueues()
                }
            })
        membership.listener = listener
        listener.start()
        membership.timers = [
            self.repeating(every: ClusterMembership.renewSeconds) { $0.renewLease() },
            self.repeating(every: ClusterMembership.reapSeconds) { core in
                core.reapLostNodes()
                core.reconcileHeldRequests()
                core.sweepQueues()
            },
        ]
        Log.info("joined the cluster queue as \(self.nodeID) (\(self.nodeAddress))")
    }

    /// A SIGTERM: requests held here go back to the head of their queues at once (the delivery not counted),
    /// this node's registrations and row are removed, and the other nodes are woken to claim them.
    func leaveCluster() {
        guard let cluster else { return }
        self.membership?.stop()
        let now = self.clock()
        var spaces = Set<Int64>()
        for (requestID, flight) in self.inFlight.sorted(by: { $0.key < $1.key }) {
            self.workers[flight.workerID]?.registrations[flight.spaceID]?.inFlight.remove(requestID)
            if let record = try? cluster.returnToQueue(requestID: requestID, workerID: flight.workerID, countDelivery: false,
                                                       maxDeliveries: self.options.maxDeliveries, now: now) {
                self.publish(record)
                spaces.insert(record.spaceID)
            }
        }
        self.inFlight.removeAll()
        do {
            try cluster.leaveCluster(nodeID: self.nodeID)
        } catch {
            Log.info("could not leave the cluster cleanly (the lease will expire): \(error)")
        }
        for spaceID in spaces.sorted() { self.wake(.queued, String(spaceID)) }
    }

    /// Tells every node (this one ignores its own) about `subject`.
    func wake(_ kind: ClusterWake, _ subject: String) {
        do {
            try self.cluster?.wakeNodes("\(kind.rawValue) \(subject) \(self.nodeID)")
        } catch {
            Log.debug("wake-up \(kind.rawValue) \(subject) not sent: \(error); the sweep will find it")
        }
    }

    /// A wake-up from another node.
    func handleWake(_ payload: String) {
        let parts = payload.split(separator: " ", maxSplits: 2).map(String.init)
        guard parts.count == 3, parts[2] != self.nodeID, let kind = ClusterWake(rawValue: parts[0]) else { return }
        switch kind {
        case .queued:
            // The node that queued them announced the space's new state; this one only claims.
            if let spaceID = Int64(parts[1]) {
                self.queueMayHoldRequests(spaceID)
                self.dispatch(spaceID: spaceID)
            }
        case .ended:
            let requestID = parts[1]
            guard let flight = self.inFlight.removeValue(forKey: requestID) else { return }
            self.workers[flight.workerID]?.registrations[flight.spaceID]?.inFlight.remove(requestID)
            self.workers[flight.workerID]?.channel.send("inference_cancel", ["request_id": .string(requestID)])
            self.dispatch(spaceID: flight.spaceID)
        }
    }

    /// Claims for every space this node's workers serve (a wake-up may have been lost).
    func sweepQueues() {
        self.membership?.drainedQueues.removeAll()
        self.queueNews &+= 1
        for spaceID in self.holders.keys.sorted() { self.dispatch(spaceID: spaceID) }
    }

    /// Makes what this node holds agree with the database, which may have lost a claim or a result in a crash
    /// (they commit asynchronously): requests it shows processing here but this node does not hold go back to
    /// the head of their queue (a redelivery); held requests it shows otherwise are dropped here and their
    /// workers told to cancel, as when another node ends one.
    func reconcileHeldRequests() {
        guard let cluster, self.membership != nil else { return }
        // A submission committed claimed but not yet sent (`finishAccept` runs next) counts as held.
        let held = self.inFlight.mapValues(\.workerID)
            .merging(self.reservedSlots.mapValues(\.workerID)) { current, _ in current }
        let found: HeldReconciliation
        do {
            found = try cluster.reconcileHeld(nodeID: self.nodeID, held: held, maxDeliveries: self.options.maxDeliveries,
                                              now: self.clock())
        } catch {
            Log.debug("held requests not reconciled: \(error)")
            return
        }
        var spaces = Set<Int64>()
        for record in found.returned {
            if record.status == .queued { self.metrics.redelivered += 1 }
            self.publish(record)
            spaces.insert(record.spaceID)
        }
        var dropped = 0
        // A reserved slot's request may not be committed yet: not held by the database's account, and kept here.
        for requestID in found.notHeld {
            guard let flight = self.inFlight.removeValue(forKey: requestID) else { continue }
            dropped += 1
            self.workers[flight.workerID]?.registrations[flight.spaceID]?.inFlight.remove(requestID)
            self.workers[flight.workerID]?.channel.send("inference_cancel", ["request_id": .string(requestID)])
            spaces.insert(flight.spaceID)
        }
        if !found.returned.isEmpty || dropped > 0 {
            Log.info("reconciled with the database: \(found.returned.count) request(s) back to their queues, "
                     + "\(dropped) no longer held here")
        }
        for spaceID in spaces.sorted() {
            self.queueMayHoldRequests(spaceID)
            if found.returned.contains(where: { $0.spaceID == spaceID }) { self.wake(.queued, String(spaceID)) }
            self.dispatch(spaceID: spaceID)
        }
    }

    /// Renews this node's lease. A node found reaped (it could not reach the database for a whole lease) joins
    /// again: the requests it held were sent back to their queues, so it forgets them (their results would be
    /// refused anyway) and registers its workers again.
    func renewLease() {
        guard let cluster, let membership else { return }
        do {
            if try !cluster.renewLease(nodeID: self.nodeID, address: self.nodeAddress, leaseSeconds: ClusterMembership.leaseSeconds) {
                Log.info("this node's lease was reaped; joining the cluster again")
                _ = try cluster.joinCluster(nodeID: self.nodeID, address: self.nodeAddress,
                                            leaseSeconds: ClusterMembership.leaseSeconds,
                                            maxDeliveries: self.options.maxDeliveries, now: self.clock())
                self.rejoinAfterReap(cluster)
            }
            if membership.databaseUpSince == nil { membership.databaseUpSince = self.clock() }
        } catch {
            membership.databaseUpSince = nil
            Log.debug("lease not renewed: \(error)")
        }
    }

    private func rejoinAfterReap(_ cluster: any ClusterQueueStore) {
        for (requestID, flight) in self.inFlight {
            self.workers[flight.workerID]?.registrations[flight.spaceID]?.inFlight.remove(requestID)
        }
        self.inFlight.removeAll()
        for (workerID, entry) in self.workers {
            for (spaceID, registration) in entry.registrations {
                let row = ClusterRegistration(workerID: workerID, spaceID: spaceID, nodeID: self.nodeID,
                                              concurrency: registration.concurrency, address: entry.channel.address,
                                              registeredAt: registration.registeredAt)
                _ = try? cluster.addRegistration(row, maxWorkers: Int.max)
            }
        }
        self.sweepQueues()
    }

    /// Runs the reaper: expired leases only once this node has reached the database for a whole lease.
    func reapLostNodes() {
        guard let cluster, let membership else { return }
        let now = self.clock()
        let settled = membership.databaseUpSince.map { now - $0 >= ClusterMembership.leaseSeconds } ?? false
        let moved: [RequestRecord]
        do {
            moved = try cluster.reapLostNodes(expireLeases: settled, maxDeliveries: self.options.maxDeliveries, now: now)
        } catch {
            return
        }
        var spaces = Set<Int64>()
        for record in moved {
            if record.status == .queued { self.metrics.redelivered += 1 }
            self.publish(record)
            spaces.insert(record.spaceID)
        }
        if !moved.isEmpty { Log.info("reaper: \(moved.count) request(s) of lost nodes back to their queues") }
        for spaceID in spaces.sorted() {
            self.queueMayHoldRequests(spaceID)
            self.wake(.queued, String(spaceID))
            self.dispatch(spaceID: spaceID)
        }
    }

    private func repeating(every seconds: Double, _ body: @escaping @Sendable (SpacesCore) -> Void) -> DispatchSourceTimer {
        let timer = DispatchSource.makeTimerSource(queue: self.queue)
        timer.schedule(deadline: .now() + seconds, repeating: seconds, leeway: .milliseconds(100))
        timer.setEventHandler { [weak self] in
            if let self { body(self) }
        }
        timer.resume()
        return timer
    }
}
