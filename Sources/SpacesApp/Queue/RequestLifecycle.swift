/// What can happen to a request.
enum RequestEvent: Sendable, Equatable {
    /// Sent to a worker with a free slot.
    case dispatch
    /// Its worker answered: `completed`, or anything else (`failed`, `error`, missing) as a failure.
    case result(success: Bool)
    /// The space's time limit passed while a worker held it.
    case timeout
    /// The owner (or an admin) canceled it.
    case cancel
    /// Its worker went away (or the server stopped) before answering: it goes back to the head of the queue,
    /// unless it was already delivered `maxDeliveries` times.
    case workerLost(deliveries: Int, maxDeliveries: Int)
}

/// The request state machine: which event moves which state where. Pure, so the queue and its tests agree.
enum RequestLifecycle {
    /// The state after `event`, or nil when the event does not apply (e.g. a late result for a finished
    /// request, which must be ignored).
    static func next(_ status: RequestStatus, on event: RequestEvent) -> RequestStatus? {
        switch (status, event) {
        case (.queued, .dispatch): return .processing
        case (.queued, .cancel): return .canceled
        case (.processing, .result(let success)): return success ? .completed : .failed
        case (.processing, .timeout): return .timeout
        case (.processing, .cancel): return .canceled
        case (.processing, .workerLost(let deliveries, let maxDeliveries)):
            return deliveries >= maxDeliveries ? .failed : .queued
        default: return nil
        }
    }

    /// How a worker's `status` field reads: only `completed` is a success; `failed`, `error`, anything else
    /// and a missing status are failures.
    static func isSuccess(workerStatus: String?) -> Bool {
        workerStatus == "completed"
    }
}
