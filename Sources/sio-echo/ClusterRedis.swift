import Foundation
import Redis
import SocketIO
import SocketIORedis
import Transport

/// The Redis side of `sio-echo --redis`: the adapter cluster on a loop of its own, with a log line for each
/// change of its connections (so an unreachable Redis is said once per state change, not silently retried).
enum ClusterRedis {
    /// The requests timeout the cluster tests assume (shared/cluster-app.md).
    static let defaultRequestsTimeoutMillis = 3_000

    /// Joins the cluster named by `--redis` (or SIO_REDIS); nil without one. Exits with a message on a bad URL.
    static func join(flags: CommandLineFlags) -> RedisAdapterCluster? {
        guard let url = flags.string("redis", env: "SIO_REDIS") else { return nil }
        var options = RedisAdapterOptions()
        options.requestsTimeoutMillis = flags.int("redis-requests-timeout", default: self.defaultRequestsTimeoutMillis)
        options.publishOnSpecificResponseChannel = flags.has("redis-specific-response-channel")
        let shown = self.redacted(url)
        options.onConnectionStateChange = { connection, state in
            self.log("redis \(connection) connection to \(shown): \(self.describe(state))")
        }
        do {
            let group = try EventLoopGroup(loopCount: 1)
            let cluster = try RedisAdapterCluster(url: url, options: options, loop: group.next())
            self.log("joining the cluster through \(shown) (requests timeout \(options.requestsTimeoutMillis) ms)")
            return cluster
        } catch {
            self.log("cannot use --redis \(shown): \(error)")
            exit(2)
        }
    }

    private static func describe(_ state: RedisConnectionState) -> String {
        switch state {
        case .connecting: return "connecting"
        case .connected: return "connected"
        case .disconnected(let reason): return "unreachable or lost (\(reason)); retrying, serving local clients meanwhile"
        case .closed: return "closed"
        }
    }

    /// The URL without its password.
    private static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].lastIndex(of: "@") else { return url }
        return url[..<scheme.upperBound] + "***" + url[at...]
    }

    private static func log(_ message: String) {
        FileHandle.standardError.write(Data("sio-echo: \(message)\n".utf8))
    }
}
