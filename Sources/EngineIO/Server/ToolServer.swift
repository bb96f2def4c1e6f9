import Foundation
import HTTPKit
import Transport

/// Start-up and shutdown shared by the small server executables (`eio-echo`, `sio-echo`): bind, print the
/// port on the first line (test harnesses read it), and stop gracefully on SIGINT/SIGTERM.
public enum ToolServer {
    /// The flags both echo servers share, with the official suites' defaults: where to listen (read by
    /// `start`) and the heartbeat and size settings of their Engine.IO server.
    public static let commonFlags = [
        CommandLineFlag("host", value: "H", help: "address to bind (default ::, which also serves IPv4)"),
        CommandLineFlag("port", value: "P", help: "port (default 3000; 0 picks a free one, printed on start)"),
        CommandLineFlag("ping-interval", value: "MS", help: "heartbeat interval in ms (default 300)"),
        CommandLineFlag("ping-timeout", value: "MS", help: "heartbeat timeout in ms (default 200)"),
        CommandLineFlag("max-payload", value: "BYTES", help: "largest message in bytes (default 1000000)"),
        CommandLineFlag("trust-proxy", help: "behind a reverse proxy: client address and https from X-Forwarded-For/-Proto"),
        CommandLineFlag("tls-cert", value: "PEM", help: "certificate chain: serve https/wss (with --tls-key; SIGHUP reloads both)"),
        CommandLineFlag("tls-key", value: "PEM", help: "private key of --tls-cert"),
        CommandLineFlag("reuse-port", help: """
            one listening socket per loop (SO_REUSEPORT): new connections hashed evenly over the loops,
            instead of going to the loop that waits (fewer wakeups, so less CPU per message when not saturated)
            """),
        CommandLineFlag("max-backpressure", value: "BYTES", help: """
            most bytes queued for a client that stopped reading, beyond what its socket took and its largest
            message, before it is cut off ("transport error"); default 1048576 (eio-echo's /echo: 67108864); 0: no cap
            """),
        CommandLineFlag("max-queued-output", value: "BYTES", help: """
            most bytes queued for such clients together; over it the largest backlogs are closed first
            (default 134217728, or 1/16 of RAM if less; 0: no limit)
            """),
        CommandLineFlag("max-connections", value: "N", help: """
            most connections open at once; more are closed unread (default: the descriptor limit
            less 128, so a flood is refused before the process runs out of descriptors; 0: no limit)
            """),
        CommandLineFlag("max-connections-per-ip", value: "N", help: """
            most connections open at once from one address (IPv6: one /64), loopback included
            (default 0: no limit, since tests and benchmarks open 10,000+ from 127.0.0.1)
            """),
        CommandLineFlag("header-timeout", value: "MS", help: """
            ms a connection has to send a complete request head, from when it opened or started one
            (default 30000; slowloris clients that never finish are closed then)
            """),
    ]

    /// The connection limits of `--max-connections` and `--max-connections-per-ip` (loopback counted: these
    /// are test servers, and a limit given on their command line is meant to apply to local clients).
    public static func connectionLimits(_ flags: CommandLineFlags) -> ConnectionLimits {
        ConnectionLimits(maxConnections: flags.int("max-connections", default: ConnectionLimits.fileDescriptorDefault()),
                         maxConnectionsPerAddress: flags.int("max-connections-per-ip", default: 0),
                         exemptLoopback: false)
    }

    /// The TLS context `--tls-cert`/`--tls-key` ask for (reloaded on SIGHUP), nil without them; exits with
    /// status 2 when only one is given and 1 when the files cannot be used.
    public static func tlsContext(program: String, certificate: String?, key: String?) -> TLSServerContext? {
        guard certificate != nil || key != nil else { return nil }
        guard let certificate, let key else {
            FileHandle.standardError.write(Data("\(program): --tls-cert and --tls-key go together (see \(program) --help)\n".utf8))
            exit(2)
        }
        do {
            let context = try TLSServerContext(certificateFile: certificate, keyFile: key)
            context.reloadOnHangup { error in
                let line = error.map { "\(program): SIGHUP: kept the previous certificate: \($0)\n" }
                    ?? "\(program): SIGHUP: reloaded \(certificate)\n"
                FileHandle.standardError.write(Data(line.utf8))
            }
            return context
        } catch {
            FileHandle.standardError.write(Data("\(program): \(error)\n".utf8))
            exit(1)
        }
    }

    /// Starts `handler` on `--host` (default `::`, falling back to IPv4 on machines without IPv6) and `--port`;
    /// prints `<name> listening on port N`. Raises the open-file limit first (`FileDescriptorLimit`). Exits with a message when it cannot listen.
    /// `--max-backpressure BYTES` caps each connection's backlog (default `maxBackpressure`) and
    /// `--max-queued-output BYTES` sets the loops' `OutputBudget` (0 turns either off); `--max-connections`,
    /// `--max-connections-per-ip` and `--header-timeout` bound connections (see `connectionLimits`).
    public static func start(name: String, flags: CommandLineFlags, loops: Int?, maxBodySize: Int,
                             maxBackpressure: Int = 1 << 20,
                             handler: HTTPRequestHandling) -> (group: EventLoopGroup, server: HTTPServer) {
        do {
            ServerMalloc.configure()
            // Each connection is a descriptor: a soft limit of 1,024 would cap the node far below its capacity.
            FileDescriptorLimit.raiseAndLog(program: name)
            let group = try loops.map { try EventLoopGroup(loopCount: $0) } ?? EventLoopGroup()
            group.outputBudget.limit = flags.int("max-queued-output", default: group.outputBudget.limit)
            var configuration = HTTPServerConfiguration(host: flags.string("host") ?? "::", port: flags.int("port", default: 3000))
            configuration.limits.maxBodySize = maxBodySize
            configuration.trustProxy = flags.has("trust-proxy")
            configuration.tls = Self.tlsContext(program: name, certificate: flags.string("tls-cert"), key: flags.string("tls-key"))
            configuration.maxBackpressure = flags.int("max-backpressure", default: maxBackpressure)
            configuration.connectionLimits = Self.connectionLimits(flags)
            configuration.headerTimeoutMillis = flags.int("header-timeout", default: configuration.headerTimeoutMillis)
            if flags.has("reuse-port") { configuration.connectionSpread = .evenHash }
            var server = try? HTTPServer(configuration: configuration, group: group, handler: handler)
            if server == nil && flags.string("host") == nil {
                // No IPv6 on this machine: IPv4 only.
                configuration.host = "0.0.0.0"
            }
            if server == nil { server = try HTTPServer(configuration: configuration, group: group, handler: handler) }
            guard let server else { exit(1) }
            // From here on a supervisor may stop us: SIGTERM must reach runUntilTerminated's handler.
            TerminationSignals.prepare()
            FileHandle.standardOutput.write(Data("\(name) listening on port \(server.port)\n".utf8))
            return (group, server)
        } catch {
            FileHandle.standardError.write(Data("\(name): \(error)\n".utf8))
            exit(1)
        }
    }

    /// Serves until SIGINT/SIGTERM, then stops accepting, runs `closeSessions`, gives sessions 3 seconds to
    /// close (`sessionCount`), stops the loops and exits.
    public static func runUntilTerminated(_ server: HTTPServer, group: EventLoopGroup,
                                          closeSessions: @escaping @Sendable () -> Void,
                                          sessionCount: @escaping @Sendable () -> Int) -> Never {
        let signals = TerminationSignals.install { _ in
            server.stopAccepting()
            closeSessions()
            let deadline = Date().addingTimeInterval(3)
            while sessionCount() > 0 && Date() < deadline { usleep(10_000) }
            group.shutdown(timeoutSeconds: 2)
            exit(0)
        }
        while true {
            withExtendedLifetime(signals) { _ = sleep(3600) }
        }
    }
}
