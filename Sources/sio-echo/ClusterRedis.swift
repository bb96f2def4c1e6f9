import Foundation
import Redis
import SocketIO
import SocketIORedis
import Synchronization
import Transport

/// The Redis side of `sio-echo --redis`: the adapter cluster on a loop of its own, with a log line when a
/// connection comes up or goes down (once per outage and reason, not once per retry).
enum ClusterRedis {
    /// The last line logged per connection ("pub", "sub").
    private static let lastLogged = Mutex<[String: String]>([:])

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
            guard let text = self.describe(state) else { return }
            let line = "redis \(connection) connection to \(shown): \(text)"
            let isNew = self.lastLogged.withLock { last in
                defer { last[connection] = line }
                return last[connection] != line
            }
            if isNew { self.log(line) }
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

    /// What to say about `state`; nil for the attempts in between.
    private static func describe(_ state: RedisConnectionState) -> String? {
        switch state {
        case .connecting: return nil
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
