import SocketIO

/// The benchmark app of shared/perf/README.md, the one `sio-echo --app bench` serves and the load tests run:
/// - `echo` with any arguments → `echo` back to the sender with the same arguments;
/// - `echo-ack` with any arguments → the ack with the same arguments;
/// - `join` with a room name → joins that room, acks with the name;
/// - `broadcast` with a room name and arguments → `broadcast` with those arguments to every socket in the room.
///
/// Arguments are relayed as the JSON text they arrived as (`SocketArguments`), never decoded.
public enum BenchmarkApp {
    /// Serves the app on every connection to the main namespace of `io`.
    public static func install(on io: SocketIOServer) {
        io.on(.connection) { socket in Self.install(on: socket) }
    }

    /// Adds the app's four handlers to `socket`.
    public static func install(on socket: Socket) {
        Self.echo(on: socket)
        Self.echoAck(on: socket)
        Self.join(on: socket)
        Self.broadcast(on: socket)
    }

    /// `echo`: the arguments come back as `echo`.
    public static func echo(on socket: Socket) {
        socket.onEvent("echo") { event in
            socket.emit("echo", event.arguments)
        }
    }

    /// `echo-ack`: the arguments come back as the acknowledgement.
    public static func echoAck(on socket: Socket) {
        socket.onEvent("echo-ack") { event in
            event.ack?.send(event.arguments)
        }
    }

    /// `join`: joins the room named by the first argument.
    public static func join(on socket: Socket) {
        socket.on("join") { args, ack in
            guard let room = args.first?.stringValue else { return }
            socket.join(room)
            ack?(.string(room))
        }
    }

    /// `broadcast`: sends the arguments to the room named by the first one.
    public static func broadcast(on socket: Socket) {
        socket.onEvent("broadcast") { event in
            guard let room = event.args.first?.stringValue else { return }
            socket.nsp.to(room).emit("broadcast", event.arguments.dropping(first: 1))
        }
    }
}
