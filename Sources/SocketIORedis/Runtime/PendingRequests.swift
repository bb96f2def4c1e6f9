import SocketIO
import Transport

/// A request this node sent and is waiting on, until `expected` answers arrived or its timer fired.
final class PendingRequest {
    enum Kind {
        case fetch(found: [SocketSnapshot], done: @Sendable ([SocketSnapshot]) -> Void)
        case allRooms(found: Set<String>, done: @Sendable (Set<String>) -> Void)
        case serverSideEmit(responses: [JSONValue], done: @Sendable (SocketAckError?, [JSONValue]) -> Void)
    }

    var kind: Kind
    /// Answers still awaited.
    var awaited: Int
    var timer: LoopTimer?

    init(kind: Kind, awaited: Int) {
        self.kind = kind
        self.awaited = awaited
    }

    /// Calls the completion with what arrived; `timedOut` marks an incomplete server-side emit.
    func finish(timedOut: Bool) {
        switch self.kind {
        case .fetch(let found, let done): done(found)
        case .allRooms(let found, let done): done(found)
        case .serverSideEmit(let responses, let done): done(timedOut ? .timeout : nil, responses)
        }
    }
}

/// The callbacks of a broadcast with acknowledgements this node sent, kept until its timeout.
struct PendingAck {
    let clientCount: @Sendable (Int) -> Void
    let ack: @Sendable (Result<[JSONValue], SocketAckError>) -> Void
    var timer: LoopTimer?
}

/// Requests in flight of one namespace adapter. Used on the adapter's loop only.
final class PendingRequests: @unchecked Sendable {
    // Invariant for @unchecked Sendable: every member is read and written on `loop` only.
    let loop: EventLoop
    var requests: [String: PendingRequest] = [:]
    var acks: [String: PendingAck] = [:]

    init(loop: EventLoop) {
        self.loop = loop
    }

    /// Registers `request` under `id`, ending it with what arrived after `timeoutMillis`.
    func add(_ request: PendingRequest, id: String, timeoutMillis: Int) {
        self.requests[id] = request
        request.timer = self.loop.schedule(afterMillis: timeoutMillis) { [weak self] in
            guard let self, let request = self.requests.removeValue(forKey: id) else { return }
            request.finish(timedOut: true)
        }
    }

    /// Counts one answer to `id` (after `update` applied it); ends the request when it was the last.
    func answer(_ id: String, _ update: (PendingRequest) -> Void) {
        guard let request = self.requests[id] else { return }
        update(request)
        request.awaited -= 1
        if request.awaited <= 0 {
            self.requests[id] = nil
            if let timer = request.timer { self.loop.cancel(timer) }
            request.finish(timedOut: false)
        }
    }

    /// Registers the callbacks of an acknowledged broadcast, forgotten after `timeoutMillis`.
    func addAck(_ ack: PendingAck, id: String, timeoutMillis: Int) {
        var ack = ack
        ack.timer = self.loop.schedule(afterMillis: timeoutMillis) { [weak self] in
            self?.acks[id] = nil
        }
        self.acks[id] = ack
    }

    /// Ends everything now with what arrived (the adapter is closing).
    func finishAll() {
        let requests = self.requests
        self.requests = [:]
        for (_, request) in requests {
            if let timer = request.timer { self.loop.cancel(timer) }
            request.finish(timedOut: true)
        }
        for (_, ack) in self.acks {
            if let timer = ack.timer { self.loop.cancel(timer) }
        }
        self.acks = [:]
    }
}
