import Dispatch

/// Request timeouts: one timer for all in-flight requests, armed for the earliest deadline.
///
/// A timer per dispatched request (`asyncAfter`) stayed in memory until its deadline even when the request
/// had long finished: at 100 requests/s and the default 120 s, 12,000 pending timers (a dispatch source and a
/// closure each), and with a day's timeout (the most a space allows) millions — memory that grew with traffic
/// times timeout, found by the soak. Deadlines now live in `inFlight`, which finishing a request clears, so
/// what is kept is bounded by the requests workers hold.
extension SpacesCore {
    /// Records that `workerID` holds `requestID` from `now`, and when it times out. On `queue`.
    func hold(_ requestID: String, spaceID: Int64, workerID: String, delivery: Int, now: Double, timeoutSeconds: Int) {
        let deadline = timeoutSeconds > 0 ? now + Double(timeoutSeconds) : nil
        self.inFlight[requestID] = InFlight(spaceID: spaceID, workerID: workerID, delivery: delivery, dispatchedAt: now,
                                            timeoutSeconds: timeoutSeconds, deadline: deadline)
        if let deadline { self.armTimeoutTimer(for: deadline) }
    }

    /// Makes sure the timer fires by `deadline` (clock seconds). On `queue`.
    func armTimeoutTimer(for deadline: Double) {
        if let armed = self.timeoutTimerDeadline, armed <= deadline { return }
        let timer: DispatchSourceTimer
        if let existing = self.timeoutTimer {
            timer = existing
        } else {
            timer = DispatchSource.makeTimerSource(queue: self.queue)
            timer.setEventHandler { [weak self] in self?.expireTimeouts() }
            timer.resume()
            self.timeoutTimer = timer
        }
        self.timeoutTimerDeadline = deadline
        let delay = max(0, deadline - self.clock())
        timer.schedule(deadline: .now() + .milliseconds(Int((delay * 1000).rounded(.up))), leeway: .milliseconds(10))
    }

    /// Ends every in-flight request whose deadline passed as `timeout`, then re-arms for the next one. On `queue`.
    func expireTimeouts() {
        self.timeoutTimerDeadline = nil
        let now = self.clock()
        let expired = self.inFlight.filter { $0.value.deadline.map { $0 <= now } ?? false }
        for (requestID, flight) in expired.sorted(by: { $0.value.dispatchedAt < $1.value.dispatchedAt }) {
            // An earlier one's finish may have dispatched this id again with a new deadline.
            guard self.inFlight[requestID]?.delivery == flight.delivery else { continue }
            Log.info("request \(requestID) timed out after \(flight.timeoutSeconds)s")
            self.finish(requestID, event: .timeout, result: nil,
                        error: "The worker did not answer within \(flight.timeoutSeconds) seconds")
        }
        if let next = self.inFlight.values.compactMap(\.deadline).min() { self.armTimeoutTimer(for: next) }
    }

    /// Stops the timer (the server is stopping). On `queue`.
    func cancelTimeoutTimer() {
        self.timeoutTimer?.cancel()
        self.timeoutTimer = nil
        self.timeoutTimerDeadline = nil
    }
}
