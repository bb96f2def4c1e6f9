import EngineIO
import Foundation
import SocketIO

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
            socket.onEvent("echo") { event in
                if alterEchoes {
                    socket.emit("echo", arguments: [event.args.first ?? .null, .string("changed")])
                } else {
                    socket.emit("echo", event.arguments)
                }
            }
            socket.onEvent("echo-ack") { event in event.ack?.send(event.arguments) }
            socket.on("join") { args, ack in
                guard let room = args.first?.stringValue else { return }
                socket.join(room)
                ack?(.string(room))
            }
            socket.onEvent("broadcast") { event in
                guard let room = event.args.first?.stringValue else { return }
                socket.nsp.to(room).emit("broadcast", event.arguments.dropping(first: 1))
            }
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
