import Foundation
import SocketIO

/// What a `register` asked for.
struct RegistrationRequest: Sendable {
    var spaceName: String?
    var token: String?
    var concurrency: Int?
}

extension SpacesCore {
    /// Handles `register`: answers `register_response` and, for refusals other than a missing name, disconnects
    /// the worker after the answer (the original's messages and order).
    func register(_ channel: WorkerChannel, _ request: RegistrationRequest) {
        func refuse(_ message: String, disconnect: Bool) {
            self.metrics.registrationsRefused += 1
            self.whenDurable {
                channel.send("register_response", ["success": false, "message": .string(message)])
                if disconnect { channel.disconnect() }
            }
            Log.info("worker \(channel.id) from \(channel.address) refused: \(message)")
        }
        guard let name = request.spaceName, !name.isEmpty else {
            refuse("space_name is required", disconnect: false)
            return
        }
        if self.draining {
            refuse("Server is shutting down", disconnect: true)
            return
        }
        let matches: [Space]
        do {
            matches = try self.store.websocketSpaces(named: name)
        } catch {
            refuse("Internal error", disconnect: true)
            return
        }
        guard let space = matches.first else {
            refuse("Space \"\(name)\" not found or is not a WebSocket space", disconnect: true)
            return
        }
        if matches.count > 1 {
            refuse("Multiple spaces with name \"\(name)\" found. Please use unique space names.", disconnect: true)
            return
        }
        if let expected = space.workerToken, !expected.isEmpty {
            guard let token = request.token, constantTimeEquals(token, expected) else {
                refuse("Invalid or missing worker token for space \"\(name)\"", disconnect: true)
                return
            }
        }
        let concurrency = max(1, min(request.concurrency ?? 1, max(1, space.maxConcurrency)))
        let now = self.clock()
        if self.workers[channel.id] == nil {
            self.workers[channel.id] = WorkerEntry(channel: channel, connectedAt: now)
        }
        if self.workers[channel.id]?.registrations[space.id] != nil {
            // The same socket registering again for the same space: an idempotent success.
            self.workers[channel.id]?.registrations[space.id]?.concurrency = concurrency
        } else {
            if !self.admitsWorker(channel, space: space, concurrency: concurrency, now: now) {
                if self.workers[channel.id]?.registrations.isEmpty ?? true { self.workers[channel.id] = nil }
                refuse("Space already has a connected app", disconnect: true)
                return
            }
            self.workers[channel.id]?.registrations[space.id] = Registration(concurrency: concurrency, registeredAt: now)
            self.holders[space.id, default: []].append(channel.id)
            self.spaceChanged(space.id)
            Log.info("worker \(channel.id) from \(channel.address) registered for space \"\(space.name)\" (#\(space.id), concurrency \(concurrency))")
        }
        let answer: JSONValue = [
            "success": true,
            "connection_id": .string(channel.id),
            "space_id": .int(space.id),
            "space_name": .string(space.name),
            "concurrency": .int(Int64(concurrency)),
            "message": .string("Successfully registered for space \"\(space.name)\""),
        ]
        self.whenDurable { channel.send("register_response", answer) }
        self.dispatch(spaceID: space.id)
    }

    /// A worker's socket went away: every registration is released and the requests it held go back to the
    /// head of their queues (or fail after too many deliveries).
    func workerGone(_ channelID: String) {
        guard let entry = self.workers.removeValue(forKey: channelID) else { return }
        if self.cluster != nil {
            self.clusterWorkerGone(channelID, entry)
            return
        }
        let now = self.clock()
        for (spaceID, registration) in entry.registrations {
            self.holders[spaceID]?.removeAll { $0 == channelID }
            if self.holders[spaceID]?.isEmpty == true { self.holders[spaceID] = nil }
            // Older first, so that they return to the head in their original order.
            let held = registration.inFlight.compactMap { id in (try? self.store.request(id: id)) ?? nil }
                .sorted { $0.queueOrder < $1.queueOrder }
            for var record in held {
                self.inFlight[record.id] = nil
                guard record.status == .processing else { continue }
                let next = RequestLifecycle.next(.processing, on: .workerLost(deliveries: record.deliveries,
                                                                              maxDeliveries: self.options.maxDeliveries))
                record.workerID = nil
                record.updatedAt = now
                record.progress = nil
                record.progressMessage = nil
                if next == .queued {
                    record.status = .queued
                    self.fifos[record.spaceID, default: RequestFIFO()].insert(id: record.id, order: record.queueOrder)
                    self.metrics.redelivered += 1
                } else {
                    record.status = .failed
                    record.error = "Request failed: delivered to a worker \(record.deliveries) times and every worker disconnected before answering"
                    record.finishedAt = now
                }
                try? self.store.updateRequest(record)
                self.publish(record)
            }
            Log.info("worker \(channelID) left space #\(spaceID) (\(held.count) request(s) back to the queue)")
        }
        for spaceID in entry.registrations.keys {
            self.dispatch(spaceID: spaceID)
            self.spaceChanged(spaceID)
        }
    }

    /// Handles `inference_result` from `channelID`: only the worker holding the request may complete it.
    func result(from channelID: String, requestID: String?, status: String?, result: JSONValue?) {
        guard let requestID, let flight = self.inFlight[requestID] else {
            self.metrics.ignoredResults += 1
            Log.info("ignored inference_result for \(requestID ?? "(no request_id)") from \(channelID): not in flight")
            return
        }
        guard flight.workerID == channelID else {
            self.metrics.ignoredResults += 1
            Log.info("ignored inference_result for \(requestID) from \(channelID): held by another worker")
            return
        }
        let success = RequestLifecycle.isSuccess(workerStatus: status)
        var errorText: String?
        if !success {
            errorText = result?["error"]?.stringValue ?? result?.stringValue
                ?? (status.map { "worker reported status \"\($0)\"" } ?? "worker sent no status")
        }
        self.writingTogether {
            self.finish(requestID, event: .result(success: success), result: result, error: errorText)
        }
    }

    /// Handles `inference_progress {request_id, progress (0-1 or 0-100), message?, partial?}`.
    func progress(from channelID: String, requestID: String?, progress: Double?, message: String?, partial: JSONValue?) {
        guard let requestID, let flight = self.inFlight[requestID], flight.workerID == channelID else { return }
        guard var record = try? self.store.request(id: requestID), record.status == .processing else { return }
        if var value = progress, value.isFinite {
            if value > 1 { value /= 100 }
            record.progress = min(1, max(0, value))
        }
        if let message { record.progressMessage = String(message.prefix(1000)) }
        record.updatedAt = self.clock()
        if let cluster {
            guard (try? cluster.updateRequest(record, ifStillStatus: .processing, workerID: channelID)) == true else { return }
        } else {
            try? self.store.updateRequest(record)
        }
        self.publish(record, partial: partial)
    }

    // MARK: Dispatch

    /// Sends queued requests of `spaceID` to workers with free slots, head first.
    func dispatch(spaceID: Int64) {
        if self.cluster != nil {
            self.claimForLocalWorkers(spaceID: spaceID)
            return
        }
        guard !self.draining, var fifo = self.fifos[spaceID], !fifo.isEmpty,
              let workerIDs = self.holders[spaceID], !workerIDs.isEmpty,
              let space = try? self.store.space(id: spaceID) else { return }
        defer { self.fifos[spaceID] = fifo }
        while !fifo.isEmpty {
            let chosen = self.freestWorker(of: workerIDs, spaceID: spaceID, space: space)
            guard let chosen, let requestID = fifo.popFirst() else { return }
            let payload = self.queuedPayloads.removeValue(forKey: requestID)
            guard var record = try? self.store.request(id: requestID), record.status == .queued else { continue }
            let now = self.clock()
            record.status = .processing
            record.deliveries += 1
            record.workerID = chosen.id
            record.startedAt = now
            record.updatedAt = now
            do {
                try self.store.updateRequest(record)
            } catch {
                Log.info("dispatch of \(requestID) failed to save: \(error)")
                fifo.insert(id: record.id, order: record.queueOrder)
                self.whenStoreReturns(error) { $0.dispatch(spaceID: spaceID) }
                return
            }
            self.deliver(record, to: chosen.id, space: space, now: now, payload: payload)
        }
    }

    /// Keeps the payload of a request that waits in its queue as a value, so that its dispatch does not parse the
    /// stored text again; short payloads and a bounded number only (the rest is parsed at dispatch).
    func keepQueuedPayload(_ record: RequestRecord, _ payload: JSONValue) {
        guard record.payload.utf8.count <= 1024, self.queuedPayloads.count < 4096 else { return }
        self.queuedPayloads[record.id] = payload
    }

    /// What a request saved as processing for `workerID` needs in memory: the slot, the timeout, the message.
    /// `payload`: the request's payload when the caller has it as a value (a submission), instead of parsing it.
    func deliver(_ record: RequestRecord, to workerID: String, space: Space, now: Double, payload: JSONValue? = nil) {
        self.hold(record.id, spaceID: space.id, workerID: workerID, delivery: record.deliveries, now: now,
                  timeoutSeconds: space.timeoutSeconds)
        self.workers[workerID]?.registrations[space.id]?.inFlight.insert(record.id)
        self.metrics.dispatched += 1
        self.metrics.dispatchWait.observe(max(0, now - record.createdAt))
        if let channel = self.workers[workerID]?.channel {
            // Sent once the row saying so is committed (SpacesCore+Durability).
            let message = self.inferenceRequest(record, space: space, payload: payload)
            self.whenDurable(request: record.id) { channel.send("inference_request", message) }
        }
        self.publish(record)
    }

    /// The registered worker with the most free slots (earliest registered on ties), if any has one.
    func freestWorker(of workerIDs: [String], spaceID: Int64, space: Space) -> (id: String, free: Int)? {
        var chosen: (id: String, free: Int)?
        for id in workerIDs {
            guard let registration = self.workers[id]?.registrations[spaceID] else { continue }
            let limit = max(1, min(registration.concurrency, max(1, space.maxConcurrency)))
            let free = limit - registration.inFlight.count
            if free > 0 && free > (chosen?.free ?? 0) { chosen = (id, free) }
        }
        return chosen
    }

    /// The `inference_request` message of the contract, plus what lets the worker upload result files.
    func inferenceRequest(_ record: RequestRecord, space: Space, payload: JSONValue? = nil) -> JSONValue {
        var message = JSONObject()
        message["request_id"] = .string(record.id)
        message["username"] = .string(record.username)
        message["payload"] = payload ?? (try? JSONParser.parse(record.payload)) ?? .object(JSONObject())
        message["space_id"] = .int(space.id)
        message["space_name"] = .string(space.name)
        message["token"] = .string(record.token)
        message["delivery"] = .int(Int64(record.deliveries))
        message["timeout_seconds"] = .int(Int64(space.timeoutSeconds))
        message["created_at"] = .string(ISOTime.format(record.createdAt))
        message["upload_url"] = .string(record.baseURL + "/api/upload")
        return .object(message)
    }

    /// Ends a request held by a worker (result, timeout, cancel), frees the slot and dispatches more.
    func finish(_ requestID: String, event: RequestEvent, result: JSONValue?, error: String?, attempt: Int = 0) {
        let stored: RequestRecord?
        do {
            stored = try self.store.request(id: requestID)
        } catch let failure {
            // The database is down for now: the request keeps its slot, and the result waits for it.
            self.whenStoreReturns(failure, attempt: attempt) {
                $0.finish(requestID, event: event, result: result, error: error, attempt: attempt + 1)
            }
            return
        }
        guard var record = stored, let next = RequestLifecycle.next(record.status, on: event) else { return }
        let previous = (status: record.status, workerID: record.workerID)
        let now = self.clock()
        let flight = self.inFlight.removeValue(forKey: requestID)
        if let flight {
            self.workers[flight.workerID]?.registrations[flight.spaceID]?.inFlight.remove(requestID)
            if next == .completed { self.workers[flight.workerID]?.registrations[flight.spaceID]?.completed += 1 }
            if let started = record.startedAt { self.metrics.processing.observe(max(0, now - started)) }
        }
        if record.status == .queued {
            self.fifos[record.spaceID]?.remove(id: record.id, order: record.queueOrder)
            self.queuedPayloads[record.id] = nil
        }
        record.status = next
        record.updatedAt = now
        record.finishedAt = now
        if let result { record.result = String(decoding: JSONSerializer.serialize(result), as: UTF8.self) }
        record.error = error
        if next == .completed { record.progress = 1 }
        if let cluster {
            // Only while nobody else moved it (another node, the reaper): the first to end it wins. The slot it frees
            // claims the next head in the same statement.
            let freed = flight.flatMap { self.slotForClaimWithResult(spaceID: $0.spaceID) }
            let saved: Bool, claimed: RequestRecord?
            do {
                (saved, claimed) = try cluster.updateRequest(record, ifStillStatus: previous.status, workerID: previous.workerID,
                                                             thenClaimFor: freed?.slot, now: now)
            } catch let failure {
                // The database is down: the worker keeps the slot and the result waits, as on one node.
                if let flight {
                    self.inFlight[requestID] = flight
                    self.workers[flight.workerID]?.registrations[flight.spaceID]?.inFlight.insert(requestID)
                }
                self.whenStoreReturns(failure, attempt: attempt) {
                    $0.finish(requestID, event: event, result: result, error: error, attempt: attempt + 1)
                }
                return
            }
            if let freed { self.sendClaimedWithResult(claimed, spaceID: record.spaceID, space: freed.space, now: now) }
            guard saved else {
                if let flight { self.dispatch(spaceID: flight.spaceID) }
                return
            }
            // Held by a worker on another node (a cancel here): that node tells its worker and frees the slot.
            if flight == nil && previous.status == .processing { self.wake(.ended, record.id) }
        } else {
            do {
                try self.store.updateRequest(record)
            } catch {
                Log.info("could not save request \(requestID): \(error)")
            }
        }
        self.publish(record)
        if let flight { self.dispatch(spaceID: flight.spaceID) }
    }

    /// Runs `retry` on the queue a second later when `error` says the database is unreachable (a PostgreSQL
    /// restart), for at most `maxStoreRetries` attempts: results and dispatches wait for it rather than vanish.
    func whenStoreReturns(_ error: any Error, attempt: Int = 0, _ retry: @escaping @Sendable (SpacesCore) -> Void) {
        guard (error as? any StoreFailure)?.kind == .unavailable, attempt < Self.maxStoreRetries else { return }
        self.queue.asyncAfter(deadline: .now() + .seconds(1)) { [weak self] in
            if let self { retry(self) }
        }
    }

    /// Seconds of a database outage during which results and dispatches are retried.
    static let maxStoreRetries = 120

    /// Tells the owners' browsers how `requestIDs` stand now (their earlier updates were skipped: nobody was
    /// known to listen then).
    func republish(requestIDs: [String]) {
        for id in requestIDs {
            if let record = try? self.store.request(id: id) { self.publish(record) }
        }
    }

    /// Tells the owner's browsers.
    func publish(_ record: RequestRecord, partial: JSONValue? = nil) {
        self.spaceChanged(record.spaceID)
        guard let onRequestUpdate = self.onRequestUpdate, self.wantsRequestUpdates?(record.userID, record.id) ?? true else { return }
        var update = JSONObject()
        update["request_id"] = .string(record.id)
        update["space_id"] = .int(record.spaceID)
        update["status"] = .string(record.status.rawValue)
        update["progress"] = record.progress.map { .double($0) } ?? .null
        update["message"] = record.progressMessage.map { .string($0) } ?? .null
        update["queue_position"] = self.queuePosition(record).map { .int(Int64($0)) } ?? .null
        if let partial { update["partial"] = partial }
        if record.status.isFinal {
            update["result"] = record.result.flatMap { try? JSONParser.parse($0) } ?? .null
            update["error"] = record.error.map { .string($0) } ?? .null
        }
        update["updated_at"] = .string(ISOTime.format(record.updatedAt))
        let userID = record.userID
        self.whenDurable(request: record.id) { onRequestUpdate(userID, .object(update)) }
    }
}
