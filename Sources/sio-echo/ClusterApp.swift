import SocketIO

/// The cluster test app of shared/cluster-app.md, on `/` and `/admin`: every event drives one server API
/// (broadcasts, bulk operations, fetchSockets, serverSideEmit, ...) on the calling socket's namespace, so a
/// plain Socket.IO client can check a cluster operation by operation, against our nodes and Node.js ones
/// alike. Errors in the request are answered through the ack as `{error: message}`.
///
/// On `/`, `join`, `leave`, `to-room` and `broadcast` also take the positional forms that the benchmark
/// app and the interop tests send (`broadcast` with a room name first, `to-room` with room and event), so
/// the node keeps serving those clients.
enum ClusterApp {
    /// Namespaces the app is served on.
    static let namespaces = ["/", "/admin"]
    /// Milliseconds `server-side-emit` and `broadcast-with-ack` wait for answers.
    static let ackTimeoutMillis = 2_000

    /// Installs the server-side listeners on both namespaces, and the socket handlers on `/admin`; the
    /// caller adds `handlers(_:node:)` to the sockets of `/` beside its own.
    static func install(on io: SocketIOServer, node: ClusterNode) {
        for name in self.namespaces {
            let nsp = io.of(name)
            nsp.onServerSideEvent("whoami") { _, ack in
                ack?(["node": "swift", "port": .int(Int64(node.port))])
            }
            nsp.onServerSideEvent("notify") { args, _ in
                node.record(notification: args, namespace: name)
            }
        }
        io.of("/admin").on(.connection) { socket in
            self.handlers(socket, node: node)
        }
    }

    /// Adds every event of the app to `socket`.
    static func handlers(_ socket: Socket, node: ClusterNode) {
        if let name = socket.handshake.auth["name"], !name.isNull {
            socket.data["name"] = name
        }
        self.membership(socket)
        self.broadcasts(socket)
        self.bulkOperations(socket)
        self.clusterQueries(socket, node: node)
    }

    // MARK: Rooms of the caller

    private static func membership(_ socket: Socket) {
        socket.on("join") { args, ack in
            guard let room = args.first?.stringValue else { return fail(ack, "join expects a room name") }
            socket.join(room)
            ack?(true)
        }
        socket.on("leave") { args, ack in
            guard let room = args.first?.stringValue else { return fail(ack, "leave expects a room name") }
            socket.leave(room)
            ack?(true)
        }
    }

    // MARK: Broadcasts

    private static func broadcasts(_ socket: Socket) {
        let nsp = socket.nsp
        socket.onEvent("to-room") { event in
            let args = event.args
            if let room = args.first?.stringValue {
                // Interop form: room, event, arguments...
                guard let name = args.dropFirst().first?.stringValue else { return }
                nsp.to(room).emit(name, arguments: Array(args.dropFirst(2)))
                event.ack?()
                return
            }
            guard let request = args.first, let rooms = roomList(request["room"]), let name = request["event"]?.stringValue else {
                return fail(event.ack, "to-room expects {room, event, args}")
            }
            apply(request["flags"], to: nsp.to(rooms)).emit(name, arguments: request["args"]?.arrayValue ?? [])
            event.ack?(true)
        }
        socket.on("to-room-except") { args, ack in
            guard let request = args.first, let rooms = roomList(request["room"]), let except = roomList(request["except"]),
                  let name = request["event"]?.stringValue else {
                return fail(ack, "to-room-except expects {room, except, event, args}")
            }
            apply(request["flags"], to: nsp.to(rooms).except(except)).emit(name, arguments: request["args"]?.arrayValue ?? [])
            ack?(true)
        }
        socket.onEvent("broadcast") { event in
            if event.args.first?.stringValue != nil {
                // Benchmark form: room, arguments... → "broadcast" to the room, arguments relayed as received.
                guard let room = event.args.first?.stringValue else { return }
                nsp.to(room).emit("broadcast", event.arguments.dropping(first: 1))
                return
            }
            guard let request = event.args.first, let name = request["event"]?.stringValue else {
                return fail(event.ack, "broadcast expects {event, args}")
            }
            apply(request["flags"], to: nsp.all).emit(name, arguments: request["args"]?.arrayValue ?? [])
            event.ack?(true)
        }
        socket.on("binary-to-room") { args, ack in
            guard let room = args.first?["room"]?.stringValue else { return fail(ack, "binary-to-room expects {room}") }
            nsp.to(room).emit("bin", .binary([1, 2, 3, 255]), ["nested": .binary(Array("hi".utf8))])
            ack?(true)
        }
        socket.on("broadcast-with-ack") { args, ack in
            guard let request = args.first, let name = request["event"]?.stringValue else {
                return fail(ack, "broadcast-with-ack expects {room?, event}")
            }
            let target = roomList(request["room"]).map { nsp.to($0) } ?? nsp.all
            target.timeout(.milliseconds(self.ackTimeoutMillis)).emit(name, "q") { error, responses in
                ack?(["err": error.map { .string($0.description) } ?? .null, "responses": .array(responses)])
            }
        }
    }

    // MARK: Bulk operations

    private static func bulkOperations(_ socket: Socket) {
        let nsp = socket.nsp
        socket.on("sockets-join") { args, ack in
            guard let request = args.first, let target = roomList(request["target"]) else {
                return fail(ack, "sockets-join expects {room, target}")
            }
            self.targeted(nsp, request["room"]).socketsJoin(target)
            ack?(true)
        }
        socket.on("sockets-leave") { args, ack in
            guard let request = args.first, let target = roomList(request["target"]) else {
                return fail(ack, "sockets-leave expects {room, target}")
            }
            self.targeted(nsp, request["room"]).socketsLeave(target)
            ack?(true)
        }
        socket.on("disconnect-sockets") { args, ack in
            let request = args.first ?? .null
            // Answer first: the caller may be among the sockets disconnected.
            ack?(true)
            self.targeted(nsp, request["room"]).disconnectSockets(close: request["close"]?.boolValue ?? false)
        }
        socket.on("fetch-sockets") { args, ack in
            let target = self.targeted(nsp, args.first?["room"])
            Task {
                let sockets = await target.fetchSockets()
                ack?(.array(sockets.sorted { $0.id < $1.id }.map(self.describe)))
            }
        }
    }

    /// `nsp.in(room)`, or the whole namespace without a room.
    private static func targeted(_ nsp: Namespace, _ room: JSONValue?) -> BroadcastOperator {
        roomList(room).map { nsp.in($0) } ?? nsp.all
    }

    /// A fetched socket as the app answers it: `{id, rooms, data, auth, handshake: {auth}}`.
    private static func describe(_ socket: RemoteSocket) -> JSONValue {
        var data = JSONObject()
        for key in socket.data.keys.sorted() {
            if let value = socket.data[key] as? JSONValue { data[key] = value }
        }
        return [
            "id": .string(socket.id),
            "rooms": .array(socket.rooms.sorted().map { .string($0) }),
            "data": .object(data),
            "auth": socket.handshake.auth,
            "handshake": ["auth": socket.handshake.auth],
        ]
    }

    // MARK: The cluster itself

    private static func clusterQueries(_ socket: Socket, node: ClusterNode) {
        let nsp = socket.nsp
        socket.on("server-side-emit") { args, ack in
            guard let request = args.first, let name = request["event"]?.stringValue else {
                return fail(ack, "server-side-emit expects {event, args, noAck?}")
            }
            let values = request["args"]?.arrayValue ?? []
            if request["noAck"]?.boolValue == true {
                nsp.serverSideEmit(name, values)
                ack?(true)
                return
            }
            nsp.serverSideEmitWithAck(name, values, timeoutMillis: self.ackTimeoutMillis) { _, responses in
                ack?(.array(responses))
            }
        }
        socket.on("all-rooms") { _, ack in
            Task {
                let rooms = await nsp.allRooms()
                ack?(.array(rooms.sorted().map { .string($0) }))
            }
        }
        socket.on("server-count") { _, ack in
            nsp.adapter.serverCount { ack?(.int(Int64($0))) }
        }
        socket.on("server-side-received") { _, ack in
            ack?(.array(node.notifications(namespace: nsp.name)))
        }
        socket.on("whoami-local") { _, ack in
            ack?(["node": "swift", "port": .int(Int64(node.port)), "sid": .string(socket.id)])
        }
    }

    // MARK: Arguments

    /// A room given as a string or an array of strings; nil when absent or of another shape.
    private static func roomList(_ value: JSONValue?) -> [String]? {
        if let room = value?.stringValue { return [room] }
        guard let array = value?.arrayValue else { return nil }
        let rooms = array.compactMap(\.stringValue)
        return rooms.count == array.count ? rooms : nil
    }

    /// Applies `{volatile, compress, local}` to `target`.
    private static func apply(_ flags: JSONValue?, to target: BroadcastOperator) -> BroadcastOperator {
        var target = target
        if flags?["volatile"]?.boolValue == true { target = target.volatile }
        if flags?["local"]?.boolValue == true { target = target.local }
        if let compress = flags?["compress"]?.boolValue { target = target.compress(compress) }
        return target
    }

    private static func fail(_ ack: SocketAck?, _ message: String) {
        ack?(["error": .string(message)])
    }
}
