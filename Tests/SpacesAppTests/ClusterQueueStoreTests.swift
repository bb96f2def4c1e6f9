import Foundation
import Synchronization
import Testing
@testable import SpacesApp

/// The cluster queue's SQL against a real PostgreSQL: two stores on one database stand for two nodes, and
/// threads call them at once, as nodes do.
@Suite struct ClusterQueueStoreTests {
    /// A store of its own on the database at `url` (for one thread: a store belongs to one node), closed after `body`.
    private static func withNode<T>(_ url: String, _ body: (PostgresStore) throws -> T) throws -> T {
        let store = try PostgresStore(url: url)
        defer { store.close() }
        return try body(store)
    }

    /// Two "nodes" on a fresh database, with one space and one user.
    private func twoNodes() throws -> (PostgresStore, PostgresStore, spaceID: Int64, userID: Int64, url: String) {
        let url = try SharedPostgres.get().createDatabase()
        let first = try PostgresStore(url: url), second = try PostgresStore(url: url)
        let space = try first.createSpace(Space(name: "Echo", cardType: .websockets, enablePrompt: true))
        let user = try first.createUser(username: "ada", passwordHash: "h", isAdmin: false, now: 1)
        return (first, second, space.id, user.id, url)
    }

    private static func record(space: Int64, user: Int64, _ n: Int, at time: Double = 100) -> RequestRecord {
        RequestRecord(id: "r\(n)-\(UUID().uuidString)", spaceID: space, userID: user, username: "ada", payload: "{}",
                      status: .queued, result: nil, error: nil, token: "t", deliveries: 0, workerID: nil, progress: nil,
                      progressMessage: nil, queueOrder: 0, createdAt: time, updatedAt: time, startedAt: nil,
                      finishedAt: nil)
    }

    private static let open = SubmissionRules(rateLimitSeconds: 0, dailyQuota: 0, dayStart: 0)

    @discardableResult
    private static func enqueue(_ store: PostgresStore, _ record: RequestRecord, rules: SubmissionRules = Self.open) throws
        -> SubmissionOutcome
    {
        try store.acceptRequest(record, rules: rules, wake: "q \(record.spaceID) test")
    }

    @Test func concurrentClaimsTakeEveryRequestExactlyOnceInOrder() throws {
        let (first, second, spaceID, userID, url) = try self.twoNodes()
        defer { first.close(); second.close() }
        var ids: [String] = []
        for n in 0..<40 {
            let r = Self.record(space: spaceID, user: userID, n)
            try Self.enqueue(n % 2 == 0 ? first : second, r)
            ids.append(r.id)
        }
        let claimed = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            var mine: [RequestRecord] = []
            _ = try? Self.withNode(url) { store in
                while let next = try store.claimNext(spaceID: spaceID, workerID: "w\(index)", nodeID: "n\(index % 2)", now: 200) {
                    mine.append(next)
                }
            }
            // Each claimer sees the FIFO in order (others take what lies between).
            #expect(mine.map(\.queueOrder) == mine.map(\.queueOrder).sorted())
            #expect(mine.allSatisfy { $0.status == .processing && $0.deliveries == 1 && $0.workerID == "w\(index)" })
            claimed.withLock { $0 += mine.map(\.id) }
        }
        #expect(claimed.withLock { $0.sorted() } == ids.sorted())
        #expect(try first.requestCount(spaceID: spaceID, status: .queued) == 0)
    }

    @Test func aHeadBeingClaimedIsSkippedNotWaitedFor() throws {
        let (first, second, spaceID, userID, _) = try self.twoNodes()
        defer { first.close(); second.close() }
        let head = Self.record(space: spaceID, user: userID, 1), next = Self.record(space: spaceID, user: userID, 2)
        try Self.enqueue(first, head)
        try Self.enqueue(first, next)
        try first.db.transaction {
            let locked = try first.db.queryFirst(
                "SELECT id FROM requests WHERE space_id = ? AND status = 'queued' ORDER BY queue_order LIMIT 1 FOR UPDATE",
                spaceID) { $0.text(0) }
            #expect(locked == head.id)
            let other = try second.claimNext(spaceID: spaceID, workerID: "w", nodeID: "n2", now: 1)
            #expect(other?.id == next.id, "the locked head is skipped")
        }
        #expect(try first.claimNext(spaceID: spaceID, workerID: "w1", nodeID: "n1", now: 1)?.id == head.id)
    }

    @Test func oneClaimFillsSeveralSlotsHeadFirstAndSkipsLockedHeads() throws {
        let (first, second, spaceID, userID, _) = try self.twoNodes()
        defer { first.close(); second.close() }
        let records = (1...5).map { Self.record(space: spaceID, user: userID, $0) }
        for record in records { try Self.enqueue(first, record) }
        try first.db.transaction {
            // Another node is claiming the head right now: the batch takes the next three, in order, one per slot.
            _ = try first.db.queryFirst(
                "SELECT id FROM requests WHERE space_id = ? AND status = 'queued' ORDER BY queue_order LIMIT 1 FOR UPDATE",
                spaceID) { $0.text(0) }
            let batch = try second.claimHeads(spaceID: spaceID, workerIDs: ["w\"a", "w\\b", "wa"], nodeID: "n2", now: 7)
            #expect(batch.map(\.id) == records[1...3].map(\.id))
            #expect(batch.map(\.workerID) == ["w\"a", "w\\b", "wa"], "slot n gets the n-th head, names kept verbatim")
            #expect(batch.allSatisfy { $0.status == .processing && $0.deliveries == 1 && $0.startedAt == 7 })
        }
        // More slots than requests: what is left, and nothing claimed twice.
        let rest = try first.claimHeads(spaceID: spaceID, workerIDs: ["x", "x", "x"], nodeID: "n1", now: 8)
        #expect(rest.map(\.id) == [records[0].id, records[4].id])
        #expect(try first.claimHeads(spaceID: spaceID, workerIDs: ["x"], nodeID: "n1", now: 9).isEmpty)
        #expect(try first.requestCount(spaceID: spaceID, status: .processing) == 5)
    }

    @Test func aSubmitWithAFreeSlotIsClaimedAtOnceOnlyWhenNothingWaitsAhead() throws {
        let (first, second, spaceID, userID, _) = try self.twoNodes()
        defer { first.close(); second.close() }
        let slot = ClusterSlot(workerID: "w1", nodeID: "n1")
        let direct = Self.record(space: spaceID, user: userID, 1, at: 50)
        guard case .accepted(let taken) = try first.acceptRequest(direct, rules: Self.open, wake: "q", claim: slot) else {
            throw CacheTestFailure.missing
        }
        #expect(taken.status == .processing && taken.workerID == "w1" && taken.deliveries == 1 && taken.startedAt == 50)
        #expect(try second.request(id: direct.id) == taken, "stored as returned")
        #expect(try second.requestCount(spaceID: spaceID, status: .processing) == 1)

        // Without a slot it waits; with one, a later submit does not jump ahead of it.
        let waiting = Self.record(space: spaceID, user: userID, 2), later = Self.record(space: spaceID, user: userID, 3)
        try Self.enqueue(second, waiting)
        guard case .accepted(let queued) = try first.acceptRequest(later, rules: Self.open, wake: "q", claim: slot) else {
            throw CacheTestFailure.missing
        }
        #expect(queued.status == .queued && queued.workerID == nil && queued.deliveries == 0)
        #expect(try second.claimNext(spaceID: spaceID, workerID: "w2", nodeID: "n2", now: 9)?.id == waiting.id)
        #expect(try second.claimNext(spaceID: spaceID, workerID: "w2", nodeID: "n2", now: 9)?.id == later.id)
        // The limits still apply to a submit that would be claimed.
        let limited = try first.acceptRequest(Self.record(space: spaceID, user: userID, 4, at: 120),
                                              rules: SubmissionRules(rateLimitSeconds: 60, dailyQuota: 0, dayStart: 0),
                                              wake: "q", claim: slot)
        #expect(limited == .rateLimited(retryAfter: 40))
    }

    @Test func aQueuedRequestWakesTheOtherNodesOnlyWhenOneOfThemHasAWorkerForTheSpace() throws {
        let (first, second, spaceID, userID, _) = try self.twoNodes()
        defer { first.close(); second.close() }
        let heard = HeardWakes()
        let listener = second.wakeListener(onWake: { heard.add($0) }, onConnect: { heard.add("connected") })
        listener.start()
        defer { listener.stop() }
        try Self.waitUntil { heard.all.contains("connected") }
        _ = try first.joinCluster(nodeID: "n1", address: "a1", leaseSeconds: 60, maxDeliveries: 3, now: 1)
        _ = try second.joinCluster(nodeID: "n2", address: "a2", leaseSeconds: 60, maxDeliveries: 3, now: 1)
        let wake = "q \(spaceID) n1"
        // Wake-ups arrive in commit order: once the marker is in, a wake-up sent before it would be too.
        func wakesBefore(_ marker: String) throws -> Int {
            try first.wakeNodes(marker)
            try Self.waitUntil { heard.all.contains(marker) }
            return heard.all.filter { $0 == wake }.count
        }
        try first.acceptRequest(Self.record(space: spaceID, user: userID, 1), rules: Self.open, wake: wake)
        #expect(try wakesBefore("m1") == 0, "no worker anywhere")
        let own = ClusterRegistration(workerID: "w1", spaceID: spaceID, nodeID: "n1", concurrency: 1, address: "", registeredAt: 1)
        #expect(try first.addRegistration(own, maxWorkers: 5))
        try first.acceptRequest(Self.record(space: spaceID, user: userID, 2), rules: Self.open, wake: wake)
        #expect(try wakesBefore("m2") == 0, "the only worker is on the sending node")
        let other = ClusterRegistration(workerID: "w2", spaceID: spaceID, nodeID: "n2", concurrency: 1, address: "", registeredAt: 1)
        #expect(try second.addRegistration(other, maxWorkers: 5))
        try first.acceptRequest(Self.record(space: spaceID, user: userID, 3), rules: Self.open, wake: wake)
        #expect(try wakesBefore("m3") == 1, "a worker on another node")
    }

    @Test func aListeningNodeKeepsRowsUntilAnyNodeChangesThem() throws {
        let (first, second, spaceID, userID, _) = try self.twoNodes()
        defer { first.close(); second.close() }
        let listening = Atomic<Int>(0)
        let listener = second.wakeListener(onWake: { _ in }, onConnect: { listening.add(1, ordering: .relaxed) })
        listener.start()
        defer { listener.stop() }
        try Self.waitUntil { listening.load(ordering: .relaxed) > 0 }
        #expect(try second.space(id: spaceID)?.name == "Echo")
        #expect(try second.user(id: userID)?.dailyQuota == 0)
        // A change nobody announces (not made through a store) is not seen: the copies are what is read.
        try first.db.execute("UPDATE spaces SET description = 'unannounced' WHERE id = \(spaceID)")
        #expect(try second.space(id: spaceID)?.description == "")

        // A request this node claimed is kept while it holds it; a cancel elsewhere (`x <id>`) drops the copy.
        let held = Self.record(space: spaceID, user: userID, 1)
        try Self.enqueue(first, held)
        #expect(try second.claimNext(spaceID: spaceID, workerID: "w", nodeID: "n2", now: 5)?.id == held.id)
        try first.db.execute("UPDATE requests SET status = 'canceled' WHERE id = '\(held.id)'")
        #expect(try second.request(id: held.id)?.status == .processing)
        try first.wakeNodes("x \(held.id) n1")
        try Self.waitUntil { try second.request(id: held.id)?.status == .canceled }
        // A queued request is never kept: any node may claim it.
        let waiting = Self.record(space: spaceID, user: userID, 2)
        try Self.enqueue(first, waiting)
        #expect(try second.request(id: waiting.id)?.status == .queued)
        _ = try first.claimNext(spaceID: spaceID, workerID: "w1", nodeID: "n1", now: 6)
        #expect(try second.request(id: waiting.id)?.status == .processing)

        // Another node changes them: the notification drops the copies.
        guard var space = try first.space(id: spaceID) else { throw CacheTestFailure.missing }
        space.maxConcurrency = 7
        try first.updateSpace(space)
        try first.setDailyQuota(userID: userID, 12)
        try Self.waitUntil { try second.space(id: spaceID)?.maxConcurrency == 7 && second.user(id: userID)?.dailyQuota == 12 }
        // This node changes them: seen at once, without waiting for its own notification.
        try second.setAdmin(userID: userID, true)
        #expect(try second.user(id: userID)?.isAdmin == true)
        try second.deleteSpace(id: spaceID)
        #expect(try second.space(id: spaceID) == nil)
        // A node that stops listening no longer keeps copies.
        listener.stop()
        try first.db.execute("UPDATE users SET daily_quota = 3 WHERE id = \(userID)")
        #expect(try second.user(id: userID)?.dailyQuota == 3)
    }

    private enum CacheTestFailure: Error { case missing, timedOut }

    /// Polls `condition` for up to 10 s.
    private static func waitUntil(_ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(10)
        while try !condition() {
            guard Date() < deadline else { throw CacheTestFailure.timedOut }
            usleep(10_000)
        }
    }

    @Test func maxWorkersAndQuotasHoldUnderConcurrentNodes() throws {
        let (first, second, spaceID, userID, url) = try self.twoNodes()
        defer { first.close(); second.close() }
        let admitted = Atomic<Int>(0), accepted = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 10) { index in
            let row = ClusterRegistration(workerID: "w\(index)", spaceID: spaceID, nodeID: "n\(index % 2)", concurrency: 1,
                                          address: "", registeredAt: 1)
            let rules = SubmissionRules(rateLimitSeconds: 0, dailyQuota: 4, dayStart: 0)
            _ = try? Self.withNode(url) { store in
                if try store.addRegistration(row, maxWorkers: 3) { admitted.add(1, ordering: .relaxed) }
                if case .accepted = try Self.enqueue(store, Self.record(space: spaceID, user: userID, index), rules: rules) {
                    accepted.add(1, ordering: .relaxed)
                }
            }
        }
        #expect(admitted.load(ordering: .relaxed) == 3)
        #expect(try first.clusterWorkerCount(spaceID: spaceID) == 3)
        #expect(accepted.load(ordering: .relaxed) == 4)
        let over = try Self.enqueue(first, Self.record(space: spaceID, user: userID, 99),
                                    rules: SubmissionRules(rateLimitSeconds: 0, dailyQuota: 4, dayStart: 0))
        #expect(over == .quotaExceeded(used: 4))
        let limited = try Self.enqueue(second, Self.record(space: spaceID, user: userID, 100, at: 130),
                                       rules: SubmissionRules(rateLimitSeconds: 60, dailyQuota: 0, dayStart: 0))
        #expect(limited == .rateLimited(retryAfter: 30))
    }

    @Test func reapersReturnAnExpiredNodesRequestsOnceToTheHead() throws {
        let (first, second, spaceID, userID, url) = try self.twoNodes()
        defer { first.close(); second.close() }
        _ = try first.joinCluster(nodeID: "dead", address: "a:1", leaseSeconds: -1, maxDeliveries: 3, now: 1)
        _ = try second.joinCluster(nodeID: "alive", address: "b:2", leaseSeconds: 60, maxDeliveries: 3, now: 1)
        let held = Self.record(space: spaceID, user: userID, 1), waiting = Self.record(space: spaceID, user: userID, 2)
        try Self.enqueue(first, held)
        try Self.enqueue(first, waiting)
        #expect(try first.claimNext(spaceID: spaceID, workerID: "w-dead", nodeID: "dead", now: 2)?.id == held.id)
        #expect(try first.addRegistration(ClusterRegistration(workerID: "w-dead", spaceID: spaceID, nodeID: "dead",
                                                              concurrency: 1, address: "", registeredAt: 2), maxWorkers: 5))

        // Not yet allowed to expire leases (the reaper has not been connected for a whole lease): nothing moves.
        #expect(try second.reapLostNodes(expireLeases: false, maxDeliveries: 3, now: 3).isEmpty)
        #expect(try second.clusterNodes().map(\.id).sorted() == ["alive", "dead"])

        let moved = Mutex<[RequestRecord]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let records = (try? Self.withNode(url) { try $0.reapLostNodes(expireLeases: true, maxDeliveries: 3, now: 4) }) ?? []
            moved.withLock { $0 += records }
        }
        let returned = moved.withLock { $0 }
        #expect(returned.map(\.id) == [held.id], "one reaper moved it, once")
        #expect(returned.first?.status == .queued && returned.first?.deliveries == 1 && returned.first?.workerID == nil)
        #expect(try second.clusterNodes().map(\.id) == ["alive"])
        #expect(try second.clusterWorkerCount(spaceID: spaceID) == 0)
        // Back at the head: claimed before the request that waited behind it, its delivery counted.
        let again = try second.claimNext(spaceID: spaceID, workerID: "w-alive", nodeID: "alive", now: 5)
        #expect(again?.id == held.id && again?.deliveries == 2)
        // The lost holder's late write is refused; the new holder's goes through.
        var late = try #require(again)
        late.status = .completed
        #expect(try !first.updateRequest(late, ifStillStatus: .processing, workerID: "w-dead"))
        #expect(try second.updateRequest(late, ifStillStatus: .processing, workerID: "w-alive"))
    }

    @Test func aRestartedNodeReleasesWhatItsPreviousRunHeldAndLeavingIsClean() throws {
        let (first, second, spaceID, userID, _) = try self.twoNodes()
        defer { first.close(); second.close() }
        _ = try first.joinCluster(nodeID: "n1", address: "a:1", leaseSeconds: 60, maxDeliveries: 3, now: 1)
        let r = Self.record(space: spaceID, user: userID, 1)
        try Self.enqueue(first, r)
        _ = try first.claimNext(spaceID: spaceID, workerID: "w", nodeID: "n1", now: 2)
        // The same node id again (a restart after a crash): released at once, the delivery counted.
        let released = try second.joinCluster(nodeID: "n1", address: "a:1", leaseSeconds: 60, maxDeliveries: 3, now: 3)
        #expect(released.map(\.id) == [r.id] && released.first?.status == .queued)
        // Handed back by a clean stop: the delivery is not counted.
        _ = try first.claimNext(spaceID: spaceID, workerID: "w2", nodeID: "n1", now: 4)
        let back = try first.returnToQueue(requestID: r.id, workerID: "w2", countDelivery: false, maxDeliveries: 3, now: 5)
        #expect(back?.status == .queued && back?.deliveries == 1)
        #expect(try first.returnToQueue(requestID: r.id, workerID: "w2", countDelivery: true, maxDeliveries: 3, now: 6) == nil)
        try first.leaveCluster(nodeID: "n1")
        #expect(try first.clusterNodes().isEmpty)
        #expect(try first.renewLease(nodeID: "n1", address: "a:1", leaseSeconds: 60) == false)
    }

    @Test func submitsCommitDurablyAndTheQueuesOwnMovesAsynchronously() throws {
        let (first, second, _, _, _) = try self.twoNodes()
        defer { first.close(); second.close() }
        let setting = "SELECT current_setting('synchronous_commit')"
        #expect(try first.db.queryFirst(setting) { $0.text(0) } == "on")
        #expect(try first.redeliverable.queryFirst(setting) { $0.text(0) } == "off")
    }

    @Test func reconcilingReturnsWhatTheNodeNoLongerHoldsAndReportsWhatTheDatabaseLost() throws {
        let (first, second, spaceID, userID, _) = try self.twoNodes()
        defer { first.close(); second.close() }
        _ = try first.joinCluster(nodeID: "n1", address: "a:1", leaseSeconds: 60, maxDeliveries: 3, now: 1)
        let records = (0..<4).map { Self.record(space: spaceID, user: userID, $0) }
        for record in records { try Self.enqueue(first, record) }
        let claimed = try first.claimHeads(spaceID: spaceID, workerIDs: ["w", "w", "w"], nodeID: "n1", now: 2)
        #expect(claimed.map(\.id) == records.prefix(3).map(\.id))
        // What a crash of PostgreSQL can leave: the node finished records[0] (its result was lost, the row says
        // processing), and it holds records[3] whose claim was lost (the row says queued); records[2] is held by
        // another worker than the row says; another node's request is left alone.
        let otherSpace = try first.createSpace(Space(name: "Other", cardType: .websockets, enablePrompt: true))
        let other = Self.record(space: otherSpace.id, user: userID, 9)
        try Self.enqueue(second, other)
        #expect(try second.claimNext(spaceID: otherSpace.id, workerID: "v", nodeID: "n2", now: 2)?.id == other.id)
        let held = [records[1].id: "w", records[2].id: "w-other", records[3].id: "w"]
        let found = try second.reconcileHeld(nodeID: "n1", held: held, maxDeliveries: 3, now: 3)
        #expect(found.returned.map(\.id) == [records[0].id])
        #expect(found.returned.first?.status == .queued && found.returned.first?.deliveries == 1)
        #expect(found.notHeld == [records[2].id, records[3].id].sorted())
        #expect(try first.request(id: records[1].id)?.status == .processing)
        #expect(try first.request(id: other.id)?.workerID == "v")
        // Back at the head, ahead of the request that still waits; the delivery it had is counted.
        let again = try first.claimNext(spaceID: spaceID, workerID: "w", nodeID: "n1", now: 4)
        #expect(again?.id == records[0].id && again?.deliveries == 2)
        // Agreeing (held exactly as stored): nothing to do.
        let settled = try first.reconcileHeld(nodeID: "n1", held: [records[0].id: "w", records[1].id: "w", records[2].id: "w"],
                                              maxDeliveries: 3, now: 5)
        #expect(settled.returned.isEmpty && settled.notHeld.isEmpty)
    }

    @Test func aQueuedRequestsPositionComesWithItsReadAndItsInsert() throws {
        let (first, second, spaceID, userID, _) = try self.twoNodes()
        defer { first.close(); second.close() }
        let records = (0..<3).map { Self.record(space: spaceID, user: userID, $0) }
        var orders: [Int64] = []
        for (index, record) in records.enumerated() {
            guard case .accepted(let stored) = try Self.enqueue(index == 1 ? second : first, record) else {
                throw CacheTestFailure.missing
            }
            orders.append(stored.queueOrder)
            // The insert counted what waits ahead of it: the answer needs no query of its own.
            let store = index == 1 ? second : first
            #expect(store.positions.take(spaceID: spaceID, queueOrder: stored.queueOrder) == index + 1)
        }
        // A status read brings the position; queuePosition uses it once, then asks the database again.
        let read = try first.request(id: records[2].id)
        #expect(read?.queueOrder == orders[2])
        #expect(first.positions.take(spaceID: spaceID, queueOrder: orders[2]) == 3)
        #expect(first.positions.take(spaceID: spaceID, queueOrder: orders[2]) == nil, "used once")
        _ = try first.request(id: records[2].id)
        #expect(try first.queuePosition(spaceID: spaceID, queueOrder: orders[2]) == 3)
        // Another node claims the head: the next read counts afresh (a queued request is never kept).
        #expect(try second.claimNext(spaceID: spaceID, workerID: "w", nodeID: "n2", now: 5)?.id == records[0].id)
        _ = try first.request(id: records[2].id)
        #expect(try first.queuePosition(spaceID: spaceID, queueOrder: orders[2]) == 2)
        #expect(try first.queuePosition(spaceID: spaceID, queueOrder: orders[1]) == 1, "no hint: counted")
        // A request that is not queued brings no position.
        _ = try first.request(id: records[0].id)
        #expect(first.positions.take(spaceID: spaceID, queueOrder: orders[0]) == nil)
    }

    @Test func parametersReachPostgreSQLAsWritten() throws {
        let url = try SharedPostgres.get().createDatabase()
        try Self.withNode(url) { store in
            let values: [SQLValue] = [.int(0), .int(-42), .int(Int64.min), .int(Int64.max), .double(-0.5), .double(1e300),
                                      .text(""), .text("ünï \"q\" \\"), .null, .blob([0, 0xab, 0xff])]
            let row = try store.db.queryFirst("""
                SELECT CAST(? AS BIGINT)::TEXT, CAST(? AS BIGINT)::TEXT, CAST(? AS BIGINT)::TEXT, CAST(? AS BIGINT)::TEXT,
                    CAST(? AS DOUBLE PRECISION)::TEXT, CAST(? AS DOUBLE PRECISION)::TEXT, CAST(? AS TEXT),
                    CAST(? AS TEXT), CAST(? AS TEXT) IS NULL, encode(CAST(? AS BYTEA), 'hex')
                """, parameters: values) { row in (0..<10).map { row.text(Int32($0)) } }
            #expect(row == ["0", "-42", String(Int64.min), String(Int64.max), "-0.5", "1e+300", "", "ünï \"q\" \\",
                            "t", "00abff"])
        }
        #expect(PostgresStore.textArray(["a", "b\"c", "d\\e", ""]) == #"{"a","b\"c","d\\e",""}"#)
    }

    @Test func aResultClaimsTheNextHeadForItsSlotInTheSameStatement() throws {
        let (first, second, spaceID, userID, _) = try self.twoNodes()
        defer { first.close(); second.close() }
        let records = (0..<4).map { Self.record(space: spaceID, user: userID, $0) }
        for record in records { try Self.enqueue(first, record) }
        guard var held = try first.claimNext(spaceID: spaceID, workerID: "w", nodeID: "n1", now: 1) else {
            throw CacheTestFailure.missing
        }
        let slot = ClusterSlot(workerID: "w", nodeID: "n1")
        // The result is written and the slot takes the head.
        var done = held
        done.status = .completed
        done.result = "{}"
        done.finishedAt = 2
        let first1 = try first.updateRequest(done, ifStillStatus: .processing, workerID: "w", thenClaimFor: slot, now: 2)
        #expect(first1.saved && first1.claimed?.id == records[1].id)
        #expect(first1.claimed?.status == .processing && first1.claimed?.workerID == "w" && first1.claimed?.deliveries == 1)
        #expect(try second.request(id: records[0].id)?.status == .completed)
        #expect(try second.request(id: records[1].id) == first1.claimed, "stored as returned")

        // Another node moved the request first: the write is refused, the claim is made all the same (of the next
        // head but that request, which waits at the head again).
        held = try #require(first1.claimed)
        #expect(try second.returnToQueue(requestID: held.id, workerID: "w", countDelivery: true, maxDeliveries: 5, now: 3) != nil)
        var late = held
        late.status = .completed
        let refused = try first.updateRequest(late, ifStillStatus: .processing, workerID: "w", thenClaimFor: slot, now: 4)
        #expect(!refused.saved && refused.claimed?.id == records[2].id)

        // A head another node is claiming is skipped; with nothing else queued, nothing is claimed.
        let third = try #require(try first.claimNext(spaceID: spaceID, workerID: "w", nodeID: "n1", now: 5))
        #expect(third.id == records[1].id && third.deliveries == 2)
        var finished = third
        finished.status = .completed
        try second.db.transaction {
            _ = try second.db.queryFirst("SELECT id FROM requests WHERE id = ? FOR UPDATE", records[3].id) { $0.text(0) }
            let skipped = try first.updateRequest(finished, ifStillStatus: .processing, workerID: "w", thenClaimFor: slot, now: 6)
            #expect(skipped.saved && skipped.claimed == nil)
        }
        #expect(try second.request(id: records[3].id)?.status == .queued)

        // A statement that fails writes neither the result nor the claim.
        first.redeliverable.close()
        var lost = try #require(refused.claimed)
        lost.status = .completed
        #expect(throws: (any Error).self) {
            try first.updateRequest(lost, ifStillStatus: .processing, workerID: "w", thenClaimFor: slot, now: 7)
        }
        #expect(try second.request(id: lost.id)?.status == .processing)
        #expect(try second.request(id: records[3].id)?.status == .queued)
    }
}

/// Wake-up payloads a listener heard, from its thread.
private final class HeardWakes: Sendable {
    private let payloads = Mutex<[String]>([])

    func add(_ payload: String) {
        self.payloads.withLock { $0.append(payload) }
    }

    var all: [String] { self.payloads.withLock { $0 } }
}
