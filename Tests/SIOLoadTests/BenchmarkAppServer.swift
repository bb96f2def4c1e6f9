import SocketIOBenchmarkApp
import SocketIOTestSupport
import Transport

/// The server the generator runs against: the benchmark app of shared/perf (`echo`, `echo-ack`, `join`,
/// `broadcast`) with production heartbeats, on one loop of its own.
enum BenchmarkAppServer {
    /// `alterEchoes` makes `echo` answer with a different payload, to check that the generator notices;
    /// `tls` serves wss.
    static func make(alterEchoes: Bool = false, tls: TLSServerContext? = nil) throws -> InProcessSocketIOServer {
        try InProcessSocketIOServer(loops: 1, tls: tls) { io in
            io.on(.connection) { socket in
                guard alterEchoes else { return BenchmarkApp.install(on: socket) }
                socket.onEvent("echo") { event in
                    socket.emit("echo", arguments: [event.args.first ?? .null, .string("changed")])
                }
                BenchmarkApp.echoAck(on: socket)
                BenchmarkApp.join(on: socket)
                BenchmarkApp.broadcast(on: socket)
            }
        }
    }
}
