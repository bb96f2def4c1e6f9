import Redis
import SocketIO
import SocketIORedis
import Transport

/// `spaces --redis URL`: the Socket.IO server joins a cluster through the Redis adapter, so the live page
/// updates (`request_update`, `space_update`, emitted to rooms of browsers) reach browsers connected to any
/// node. The queue every node shares lives in PostgreSQL (`--database postgres://...`, `ClusterQueueStore`);
/// Redis carries only these broadcasts.
enum SpacesCluster {
    /// Connects to `url` on `loop`; connection changes are logged (the connections retry by themselves).
    static func join(url: String, loop: EventLoop) throws -> RedisAdapterCluster {
        var options = RedisAdapterOptions()
        options.onConnectionStateChange = { connection, state in
            switch state {
            case .connecting: break
            case .connected: Log.info("redis \(connection) connection: connected")
            case .disconnected(let reason): Log.info("redis \(connection) connection: down (\(reason)); retrying")
            case .closed: Log.debug("redis \(connection) connection: closed")
            }
        }
        return try RedisAdapterCluster(url: url, options: options, loop: loop)
    }
}
