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
        CommandLineFlag("app", value: "all|bench", help: """
            all: test suite, benchmark and interop handlers (default); bench: only the
            benchmark app of shared/perf on "/", as the reference servers run it
            """),
        CommandLineFlag("per-message-deflate", help: """
            negotiate WebSocket permessage-deflate when a client offers it (default off, as Node);
            messages under 1024 bytes and compress(false) emits still go out uncompressed
            """),
    ]

    static func main() {
        let flags = CommandLineFlags.parseOrExit(program: "sio-echo", accepting: Self.flags)
        if flags.has("help") {
            print(CommandLineFlags.usage(synopsis: "usage: sio-echo [options]", flags: Self.flags), terminator: "")
            exit(0)
        }

        var engineOptions = EngineServerOptions.socketIO
        engineOptions.pingInterval = flags.int("ping-interval", default: 300)
        engineOptions.pingTimeout = flags.int("ping-timeout", default: 200)
        engineOptions.maxHttpBufferSize = flags.int("max-payload", default: 1_000_000)
        engineOptions.cors = .any
        engineOptions.perMessageDeflate = flags.has("per-message-deflate")
        var options = SocketIOServerOptions()
        options.connectTimeout = flags.int("connect-timeout", default: 1000)

        let engine = EngineServer(options: engineOptions)
        let io = SocketIOServer(engine: engine, options: options)
        let app = flags.string("app") ?? "all"
        guard app == "all" || app == "bench" else {
            FileHandle.standardError.write(Data("sio-echo: --app is all or bench, not \"\(app)\" (see sio-echo --help)\n".utf8))
            exit(2)
        }
        if app == "bench" {
            BenchmarkApp.install(on: io)
        } else {
            EchoApp.install(on: io)
        }

        let chain = HTTPHandlerChain([(claims: { @Sendable head in engine.claims(head) }, handler: engine)])
        let (group, server) = ToolServer.start(name: "sio-echo", flags: flags, loops: flags.string("loops").flatMap(Int.init),
                                               maxBodySize: engineOptions.maxHttpBufferSize, handler: chain)
        ToolServer.runUntilTerminated(server, group: group, closeSessions: { io.close() },
                                      sessionCount: { engine.sessionCount })
    }
}

/// The event handlers.
enum EchoApp {
    static func install(on io: SocketIOServer) {
        io.on(.connection) { socket in
            self.testSuiteHandlers(socket)
            BenchmarkApp.install(on: socket)
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
            socket.emit("emit-with-ack", arguments: event.args) { error, response in
                if error == nil { socket.emit("emit-with-ack", arguments: response) }
            }
        }
    }

    /// The benchmark app of shared/perf/README.md.
    /// Helpers for the Python interop tests.
    static func interopHandlers(_ socket: Socket, io: SocketIOServer) {
        // The server asks the client (with an acknowledgement) and reports the answer.
        socket.on("ask-client") { args, _ in
            socket.timeout(5000).emit("question", arguments: args) { error, response in
                if let error {
                    socket.emit("answer-error", .string(error.description))
                } else {
                    socket.emit("answer", arguments: response)
                }
            }
        }
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
        socket.on("server-disconnect") { _, _ in
            socket.disconnect()
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
