import EngineIO
import Foundation
import HTTPKit
import SocketIO
import SocketIOBenchmarkApp
import Transport

// Two servers in one:
// - the configuration the official socket.io-protocol test suite expects: path /socket.io/, pingInterval 300,
//   pingTimeout 200, maxPayload 1000000, connectTimeout 1000, CORS *; on connection emit `auth` with the
//   handshake auth; `message` → `message-back`, `message-with-ack` → ack, `emit-with-ack` → ask the client
//   and emit its answer; the same on `/custom`;
// - the benchmark app of shared/perf: `echo`, `echo-ack`, `join`, `broadcast`;
// plus what the Python interop tests drive: `ask-client`, `/restricted` (middleware), room helpers.

@main
struct SIOEcho {
    /// Every flag sio-echo accepts.
    static let flags = ToolServer.commonFlags + [
        CommandLineFlag("loops", value: "N", help: "event loops (default: one per core)"),
        CommandLineFlag("connect-timeout", value: "MS", help: "ms a client has to join a namespace (default 1000)"),
        CommandLineFlag("app", value: "all|bench|cluster", help: """
            all: test suite, benchmark and interop handlers (default); bench: only the
            benchmark app of shared/perf on "/", as the reference servers run it; cluster: all,
            plus the cluster test app of shared/cluster-app.md on "/" and "/admin" (default with --redis)
            """),
        CommandLineFlag("redis", value: "URL", help: """
            join a cluster through Redis: redis://[user:password@]host[:port][/db], rediss://...,
            unix:///path/redis.sock (env SIO_REDIS)
            """),
        CommandLineFlag("redis-requests-timeout", value: "MS", help: "ms a cluster request waits for the other nodes (default 3000)"),
        CommandLineFlag("redis-specific-response-channel", help: """
            answer the other nodes' requests on the asking node's own response channel
            (Node's publishOnSpecificResponseChannel) instead of the shared one
            """),
        CommandLineFlag("per-message-deflate", help: """
            negotiate WebSocket permessage-deflate when a client offers it (default off, as Node);
            messages under 1024 bytes and compress(false) emits still go out uncompressed
            """),
        CommandLineFlag("allow-eio3", help: """
            also serve Engine.IO v3 clients (Socket.IO v2: python-socketio 4.x, the JS 2.x client), as
            Node's allowEIO3 (default off)
            """),
        CommandLineFlag("stats-interval", value: "S", help: """
            every S seconds, one line on standard error: open sessions and bytes queued for slow
            clients (for soak runs; default 0: none)
            """),
        CommandLineFlag("connection-state-recovery", help: """
            keep the session of a client that lost its connection for 2 minutes: it comes back
            with its socket id, rooms and data, and gets the broadcasts it missed (default off, as Node)
            """),
        CommandLineFlag("no-serve-client", help: """
            do not serve the browser client at /socket.io/socket.io.js (served by default, as Node's serveClient)
            """),
    ]

    static func main() async {
        let flags = CommandLineFlags.parseOrExit(program: "sio-echo", accepting: Self.flags)
        if flags.has("help") {
            print(CommandLineFlags.usage(synopsis: "usage: sio-echo [options]", flags: Self.flags), terminator: "")
            exit(0)
        }

        var engineOptions = EngineServerOptions.socketIO
        engineOptions.pingInterval = flags.int("ping-interval", default: 300)
        engineOptions.pingTimeout = flags.int("ping-timeout", default: 200)
        engineOptions.maxHttpBufferSize = flags.int("max-payload", default: 1_000_000)
        engineOptions.maxBackpressure = flags.int("max-backpressure", default: engineOptions.maxBackpressure)
        engineOptions.cors = .any
        engineOptions.perMessageDeflate = flags.has("per-message-deflate")
        engineOptions.allowEIO3 = flags.has("allow-eio3")
        var options = SocketIOServerOptions()
        options.connectTimeout = flags.int("connect-timeout", default: 1000)
        if flags.has("connection-state-recovery") { options.connectionStateRecovery = ConnectionStateRecoveryOptions() }
        options.serveClient = !flags.has("no-serve-client")

        let redis = ClusterRedis.join(flags: flags)
        if let redis { options.adapter = redis.adapterFactory }

        var http = HTTPServerConfiguration(host: flags.string("host") ?? "::", port: flags.int("port", default: 3000))
        http.limits.maxBodySize = engineOptions.maxHttpBufferSize
        http.trustProxy = flags.has("trust-proxy")
        if flags.has("reuse-port") { http.connectionSpread = .evenHash }
        http.tls = ToolServer.tlsContext(program: "sio-echo", certificate: flags.string("tls-cert"), key: flags.string("tls-key"))
        http.maxBackpressure = flags.int("max-backpressure", default: http.maxBackpressure)
        ServerMalloc.configure()
        // Each connection is a descriptor: a soft limit of 1,024 would cap the node far below its capacity.
        FileDescriptorLimit.raiseAndLog(program: "sio-echo")
        // After raising it: the default --max-connections follows the descriptor limit.
        http.connectionLimits = ToolServer.connectionLimits(flags)
        http.headerTimeoutMillis = flags.int("header-timeout", default: http.headerTimeoutMillis)
        let server: SocketIOApp
        do {
            server = try SocketIOApp(http: http, loops: flags.string("loops").flatMap(Int.init), options: options,
                                     engineOptions: engineOptions)
        } catch {
            FileHandle.standardError.write(Data("sio-echo: \(error)\n".utf8))
            exit(1)
        }
        server.group.outputBudget.limit = flags.int("max-queued-output", default: server.group.outputBudget.limit)
        let io = server.io
        let app = flags.string("app") ?? (redis == nil ? "all" : "cluster")
        let node = ClusterNode()
        switch app {
        case "all": EchoApp.install(on: io, cluster: nil)
        case "bench": BenchmarkApp.install(on: io)
        case "cluster": EchoApp.install(on: io, cluster: node)
        default:
            FileHandle.standardError.write(Data("sio-echo: --app is all, bench or cluster, not \"\(app)\" (see sio-echo --help)\n".utf8))
            exit(2)
        }

        server.onShutdown { redis?.close() }
        do {
            let port = try server.start()
            node.bind(port: port)
            StatsLine.start(every: flags.int("stats-interval", default: 0), engine: server.engine, group: server.group)
            // Test harnesses read the port from this first line.
            FileHandle.standardOutput.write(Data("sio-echo listening on port \(port)\n".utf8))
            try await server.run()
        } catch {
            FileHandle.standardError.write(Data("sio-echo: \(error)\n".utf8))
            exit(1)
        }
    }
}

/// The event handlers.
enum EchoApp {
    /// With `cluster`, the cluster test app is served too; its `join`, `leave`, `to-room` and `broadcast`
    /// replace the benchmark and interop ones of the same names on `/` (and accept their argument forms).
    static func install(on io: SocketIOServer, cluster: ClusterNode?) {
        if let cluster { ClusterApp.install(on: io, node: cluster) }
        io.on(.connection) { socket in
            self.testSuiteHandlers(socket)
            BenchmarkApp.echo(on: socket)
            BenchmarkApp.echoAck(on: socket)
            if let cluster {
                ClusterApp.handlers(socket, node: cluster)
            } else {
                BenchmarkApp.join(on: socket)
                BenchmarkApp.broadcast(on: socket)
                self.roomHandlers(socket)
            }
            self.interopHandlers(socket, io: io)
        }
        io.of("/custom").on(.connection) { socket in
            self.testSuiteHandlers(socket)
        }
        // Admits only clients whose auth payload carries token "secret"; refusals carry data.
        let restricted = io.of("/restricted")
        restricted.use { socket, next in
            if socket.handshake.auth["token"]?.stringValue == "secret" {
                next(nil)
            } else {
                next(SocketConnectError("not authorized", data: ["reason": "bad token"]))
            }
        }
        restricted.on(.connection) { socket in
            socket.emit("welcome", .string(socket.nsp.name))
            self.testSuiteHandlers(socket)
        }
    }

    /// What the official socket.io-protocol test suite checks.
    static func testSuiteHandlers(_ socket: Socket) {
        socket.emit("auth", socket.handshake.auth)
        socket.onEvent("message") { event in
            socket.emit("message-back", event.arguments)
        }
        socket.onEvent("message-with-ack") { event in
            event.ack?.send(event.arguments)
        }
        socket.onEvent("emit-with-ack") { event in
            socket.emit("emit-with-ack", arguments: event.args) { result in
                if case .success(let response) = result { socket.emit("emit-with-ack", arguments: response) }
            }
        }
    }

    /// `leave` and `to-room` of the interop tests (the cluster app has its own forms of both).
    static func roomHandlers(_ socket: Socket) {
        socket.on("leave") { args, ack in
            guard let room = args.first?.stringValue else { return }
            socket.leave(room)
            ack?(.string(room))
        }
        // Emits to a room, sender included or not.
        socket.on("to-room") { args, ack in
            guard let room = args.first?.stringValue, let event = args.dropFirst().first?.stringValue else { return }
            socket.nsp.to(room).emit(event, arguments: Array(args.dropFirst(2)))
            ack?()
        }
    }

    /// Helpers for the Python interop tests.
    static func interopHandlers(_ socket: Socket, io: SocketIOServer) {
        // The server asks the client (with an acknowledgement) and reports the answer.
        socket.on("ask-client") { args, _ in
            socket.timeout(.seconds(5)).emit("question", arguments: args) { result in
                switch result {
                case .success(let response): socket.emit("answer", arguments: response)
                case .failure(let error): socket.emit("answer-error", error.description)
                }
            }
        }
        socket.on("to-others") { args, ack in
            guard let event = args.first?.stringValue else { return }
            socket.broadcast.emit(event, arguments: Array(args.dropFirst()))
            ack?()
        }
        socket.on("disconnect-room") { args, ack in
            guard let room = args.first?.stringValue else { return }
            let close = args.dropFirst().first?.boolValue ?? false
            ack?()
            io.in(room).disconnectSockets(close: close)
        }
        // What the server knows of the client's connection (for --trust-proxy and TLS tests).
        socket.on("handshake") { _, ack in
            ack?(["address": .string(socket.handshake.address), "secure": .bool(socket.handshake.secure)])
        }
        socket.on("server-disconnect") { _, _ in
            socket.disconnect()
        }
        // Drops the Engine.IO connection without a DISCONNECT packet: a network blip, for recovery tests.
        socket.on("drop-connection") { _, _ in
            socket.conn.close()
        }
        socket.on("rooms") { _, ack in
            ack?(.array(socket.rooms.sorted().map { .string($0) }))
        }
        socket.on("count-room") { args, ack in
            guard let room = args.first?.stringValue, let ack else { return }
            Task {
                let sockets = await io.in(room).fetchSockets()
                ack(.int(Int64(sockets.count)))
            }
        }
        // The arguments come back twice: as `compressed` (deflated when long enough) and, with
        // compress(false), as `uncompressed` from the socket and as `uncompressed-broadcast` to its room.
        socket.on("compress-echo") { args, ack in
            socket.emit("compressed", arguments: args)
            socket.compress(false).emit("uncompressed", arguments: args)
            io.to(socket.id).compress(false).emit("uncompressed-broadcast", arguments: args)
            ack?()
        }
        socket.on("size") { args, ack in
            let total = args.reduce(0) { total, value in total + (value.binaryValue?.count ?? value.stringValue?.utf8.count ?? 0) }
            ack?(.int(Int64(total)))
        }
    }
}
