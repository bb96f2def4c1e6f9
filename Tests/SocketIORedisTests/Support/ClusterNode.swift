import Foundation
import SocketIO
import SocketIORedis
import SocketIOTestSupport
import Transport

/// One server of a test cluster: an in-process Socket.IO server with its own loops, joined to the cluster
/// through its own `RedisAdapterCluster` (on a loop of its own).
///
/// Every socket that connects joins the rooms listed in its auth (`{"name": ..., "rooms": [...]}`) and keeps
/// its name in `socket.data["name"]`.
final class ClusterNode: Sendable {
    let cluster: RedisAdapterCluster
    let server: InProcessSocketIOServer
    private let redisGroup: EventLoopGroup

    var io: SocketIOServer { self.server.io }
    var url: String { self.server.url }

    init(redisURL: String, options: RedisAdapterOptions = RedisAdapterOptions(),
         setup: (SocketIOServer) -> Void = { _ in }) throws {
        let redisGroup = try EventLoopGroup(loopCount: 1)
        let cluster = try RedisAdapterCluster(url: redisURL, options: options, loop: redisGroup.loops[0])
        self.redisGroup = redisGroup
        self.cluster = cluster
        self.server = try InProcessSocketIOServer(loops: 2, options: { $0.adapter = cluster.adapterFactory }) { io in
            let admit: @Sendable (Socket) -> Void = { socket in
                if let name = socket.handshake.auth["name"] { socket.data["name"] = name }
                let rooms = socket.handshake.auth["rooms"]?.arrayValue?.compactMap(\.stringValue) ?? []
                socket.join(rooms)
            }
            io.on(.connection, admit)
            io.of("/admin").on(.connection, admit)
            setup(io)
        }
    }

    /// The uid of the adapter of `namespace`.
    func uid(_ namespace: String = "/") -> String { self.cluster.uid(of: namespace) ?? "?" }

    func stop() {
        self.server.shutdown()
        self.cluster.close()
        self.redisGroup.shutdown(timeoutSeconds: 2)
    }
}
