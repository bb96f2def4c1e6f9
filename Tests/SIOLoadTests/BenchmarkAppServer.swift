import EngineIO
import Foundation
import SocketIO
import SocketIOBenchmarkApp

/// An in-process Socket.IO server on 127.0.0.1 running the benchmark app of shared/perf (`echo`,
/// `echo-ack`, `join`, `broadcast`) with production heartbeats, on one loop of its own.
final class BenchmarkAppServer: Sendable {
    let engine: EngineServer
    let io: SocketIOServer
    let http: HTTPServer
    let group: EventLoopGroup

    /// `alterEchoes` makes `echo` answer with a different payload, to check that the generator notices.
    init(alterEchoes: Bool = false) throws {
        var engineOptions = EngineServerOptions.socketIO
        engineOptions.pingInterval = 25_000
        engineOptions.pingTimeout = 20_000
        let engine = EngineServer(options: engineOptions)
        let io = SocketIOServer(engine: engine, options: SocketIOServerOptions())
        io.on(.connection) { socket in
            guard alterEchoes else { return BenchmarkApp.install(on: socket) }
            socket.onEvent("echo") { event in
                socket.emit("echo", arguments: [event.args.first ?? .null, .string("changed")])
            }
            BenchmarkApp.echoAck(on: socket)
            BenchmarkApp.join(on: socket)
            BenchmarkApp.broadcast(on: socket)
        }
        let group = try EventLoopGroup(loopCount: 1)
        let chain = HTTPHandlerChain([(claims: { @Sendable head in engine.claims(head) }, handler: engine)])
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.limits.maxBodySize = engineOptions.maxHttpBufferSize
        do {
            self.http = try HTTPServer(configuration: configuration, group: group, handler: chain)
        } catch {
            group.shutdown(timeoutSeconds: 2)
            throw error
        }
        self.engine = engine
        self.io = io
        self.group = group
    }

    var port: Int { self.http.port }

    func shutdown() {
        self.http.stopAccepting()
        self.io.close()
        let deadline = Date(timeIntervalSinceNow: 2)
        while self.engine.sessionCount > 0 && Date() < deadline { usleep(5_000) }
        self.group.shutdown(timeoutSeconds: 2)
    }
}
