import EngineIO
import Foundation
import HTTPKit
import Transport

// The server the official Engine.IO test suite expects: path /engine.io/, pingInterval 300,
// pingTimeout 200, maxPayload 1000000, CORS *, every message echoed back as it came.
// `/echo` is a plain WebSocket echo endpoint for RFC 6455 conformance tools.

@main
struct EIOEcho {
    /// Every flag eio-echo accepts.
    static let flags = ToolServer.commonFlags + [
        CommandLineFlag("path", value: "P", help: "Engine.IO path (default /engine.io/; benchmarks use /socket.io/)"),
        CommandLineFlag("loops", value: "N", help: "event loops (default 1, like the single-threaded reference server)"),
    ]

    static func main() {
        let flags = CommandLineFlags.parseOrExit(program: "eio-echo", accepting: Self.flags)
        if flags.has("help") {
            print(CommandLineFlags.usage(synopsis: "usage: eio-echo [options]", flags: Self.flags), terminator: "")
            exit(0)
        }

        var options = EngineServerOptions()
        options.path = flags.string("path") ?? "/engine.io/"
        options.pingInterval = flags.int("ping-interval", default: 300)
        options.pingTimeout = flags.int("ping-timeout", default: 200)
        options.maxHttpBufferSize = flags.int("max-payload", default: 1_000_000)
        options.maxBackpressure = flags.int("max-backpressure", default: options.maxBackpressure)
        options.cors = .any
        options.perMessageDeflate = true

        let engine = EngineServer(options: options)
        engine.onConnection = { session in
            session.delegate = EchoSession.shared
        }

        let echoService = WebSocketEchoService(maxMessageSize: 64 * 1024 * 1024)
        let chain = HTTPHandlerChain([
            (claims: { @Sendable head in engine.claims(head) }, handler: engine),
            (claims: { @Sendable head in head.path == "/echo" }, handler: echoService),
        ])
        let (group, server) = ToolServer.start(name: "eio-echo", flags: flags, loops: flags.int("loops", default: 1),
                                               maxBodySize: options.maxHttpBufferSize, maxBackpressure: 64 << 20,
                                               handler: chain)
        ToolServer.runUntilTerminated(server, group: group, closeSessions: { engine.closeAllSessions() },
                                      sessionCount: { engine.sessionCount })
    }
}

/// Echoes every message back on the session it came from.
final class EchoSession: EngineSessionDelegate, @unchecked Sendable {
    // Stateless, so sharing one instance across loops is safe.
    static let shared = EchoSession()

    func session(_ session: EngineSession, didReceiveText text: ArraySlice<UInt8>) {
        session.send(text: text)
    }

    func session(_ session: EngineSession, didReceiveBinary bytes: [UInt8]) {
        session.send(binary: bytes)
    }

    func sessionDidClose(_ session: EngineSession, reason: EngineCloseReason) {}
}
