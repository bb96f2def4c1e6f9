import Redis
import SocketIO
import Synchronization
import Transport

/// What a node does with the messages of other nodes (Node's `onmessage`, `onrequest`, `onresponse`).
/// Called on the adapter's loop; malformed messages are ignored, as Node ignores them.
extension RedisNamespaceAdapter {
    /// A broadcast on `K#N#` or `K#N#room#`.
    func receiveBroadcast(channel: String, payload: [UInt8]) {
        guard let room = self.channels.roomPart(ofBroadcastChannel: channel) else { return }
        // Cheap skip before decoding: a room broadcast with no local member.
        if !room.isEmpty && !self.roomCounts.contains(room) { return }
        guard let message = try? RedisBroadcastMessage.decode(payload), message.uid != self.uid,
              message.packet.namespace == self.namespace else { return }
        let packet = SocketBroadcastPacket(namespace: self.namespace, event: message.packet.event,
                                           arguments: message.packet.arguments)
        let options = RedisTarget(rooms: message.rooms, except: message.except).options(flags: message.flags.socketFlags)
        self.local.broadcast(packet, options: options)
    }

    /// A message on the request channel.
    func receiveRequest(payload: [UInt8]) {
        guard let request = try? RedisRequest.decode(payload) else { return }
        switch request {
        case .sockets(_, let requestId, let rooms):
            guard self.pending.requests[requestId] == nil else { return }
            self.local.sockets(in: Set(rooms)) { ids in
                self.publishResponse(.sockets(requestId: requestId, sockets: ids.sorted().map(JSONValue.string)), to: request.uid)
            }
        case .allRooms(_, let requestId):
            guard self.pending.requests[requestId] == nil else { return }
            self.publishResponse(.allRooms(requestId: requestId, rooms: self.roomCounts.rooms.sorted()), to: request.uid)
        case .join(_, let target, let rooms):
            self.local.addSockets(target.options(), rooms: Set(rooms))
        case .leave(_, let target, let rooms):
            self.local.delSockets(target.options(), rooms: Set(rooms))
        case .disconnect(_, let target, let close):
            self.local.disconnectSockets(target.options(), close: close)
        case .socketRoom(let type, _, let requestId, let socketId, let room):
            self.withLocalSocket(socketId, answering: requestId, to: request.uid) { socket in
                if type == .remoteJoin { socket.join(room) } else { socket.leave(room) }
            }
        case .disconnectSocket(_, let requestId, let socketId, let close):
            self.withLocalSocket(socketId, answering: requestId, to: request.uid) { socket in
                socket.disconnect(close: close)
            }
        case .fetch(_, let requestId, let target):
            guard self.pending.requests[requestId] == nil else { return }
            self.local.fetchSockets(target.options()) { snapshots in
                let sockets = snapshots.map { RedisSocketDetails($0).json }
                self.publishResponse(.sockets(requestId: requestId, sockets: sockets), to: request.uid)
            }
        case .serverSideEmit(let uid, let requestId, let data):
            guard uid != self.uid else { return }
            guard let requestId else { return self.deliverServerSideEvent(data, ack: nil) }
            let answered = Mutex(false)
            let client = self.client
            let channel = self.channels.response
            // Only the first answer travels, and always on the general response channel (as Node).
            self.deliverServerSideEvent(data) { value in
                let first = answered.withLock { answered in
                    defer { answered = true }
                    return !answered
                }
                if first { client.publish(channel, RedisResponse.serverSideEmit(requestId: requestId, data: value).encode()) }
            }
        case .broadcast(_, let requestId, let packet, let target, let flags):
            guard self.pending.acks[requestId] == nil else { return }
            var socketFlags = SocketBroadcastFlags()
            // Node applies only the rooms; the timeout bounds how long our sockets keep the pending answer.
            socketFlags.timeoutMillis = flags.timeoutMillis
            let broadcast = SocketBroadcastPacket(namespace: self.namespace, event: packet.event, arguments: packet.arguments)
            let asker = request.uid
            self.local.broadcastWithAck(broadcast, options: target.options(flags: socketFlags), clientCount: { count in
                self.publishResponse(.clientCount(requestId: requestId, count: count), to: asker)
            }, ack: { result in
                // A client that did not answer (timeout, disconnection) sends nothing, as in Node.
                guard case .success(let values) = result else { return }
                self.publishResponse(.ack(requestId: requestId, value: values.first), to: asker)
            })
        }
    }

    /// A message on `K-response#N#` or this node's own response channel.
    func receiveResponse(payload: [UInt8]) {
        guard let response = try? RedisResponse.decode(payload) else { return }
        let requestId = response.requestId
        if let ack = self.pending.acks[requestId] {
            switch response {
            case .clientCount(_, let count): ack.clientCount(count)
            case .ack(_, let value): ack.ack(.success([value ?? .null]))
            default: break
            }
            return
        }
        guard let request = self.pending.requests[requestId] else { return }
        switch (request.kind, response) {
        case (.fetch, .sockets(_, let sockets)):
            self.pending.answer(requestId) { request in
                guard case .fetch(let found, let done) = request.kind else { return }
                let remote = sockets.compactMap { RedisSocketDetails(json: $0).snapshot }
                request.kind = .fetch(found: found + remote, done: done)
            }
        case (.allRooms, .allRooms(_, let rooms)):
            self.pending.answer(requestId) { request in
                guard case .allRooms(let found, let done) = request.kind else { return }
                request.kind = .allRooms(found: found.union(rooms), done: done)
            }
        case (.serverSideEmit, .serverSideEmit(_, let data)):
            self.pending.answer(requestId) { request in
                guard case .serverSideEmit(let responses, let done) = request.kind else { return }
                request.kind = .serverSideEmit(responses: responses + [data ?? .null], done: done)
            }
        default:
            // Node counts an answer of the wrong shape without using it.
            self.pending.answer(requestId) { _ in }
        }
    }

    /// Publishes a response where the asking node listens.
    func publishResponse(_ response: RedisResponse, to askerUid: String?) {
        let channel = self.options.publishOnSpecificResponseChannel && askerUid != nil
            ? self.channels.specificResponse(uid: askerUid ?? "")
            : self.channels.response
        self.client.publish(channel, response.encode())
    }

    /// The older single-socket requests: act on the socket if it is here, then answer `{requestId}`.
    private func withLocalSocket(_ socketId: String, answering requestId: String?, to asker: String?,
                                 _ body: @escaping @Sendable (Socket) -> Void) {
        let found = Mutex(false)
        self.local.forEachLocalSocket(SocketBroadcastOptions(rooms: [socketId]), { socket in
            guard socket.id == socketId else { return }
            found.withLock { $0 = true }
            body(socket)
        }, completion: {
            guard found.withLock({ $0 }), let requestId else { return }
            self.publishResponse(.done(requestId: requestId), to: asker)
        })
    }
}
