import EngineIO
import Foundation
import SocketIOClient
import Synchronization
import Transport

/// The Swift counterpart of SpacesApp's original Python worker (`mock_app.py`): connects to a SpacesApp
/// server, registers for one or more websockets spaces, and answers `inference_request`s, up to
/// `--concurrency` at a time. Registration is repeated after every reconnection.
@main
struct SpacesWorker {
    /// Every flag spaces-worker accepts.
    static let flags = [
        CommandLineFlag("host", value: "URL", help: "SpacesApp server URL (default http://localhost:5001; env SPACES_HOST)"),
        CommandLineFlag("spaces", value: "NAME[,NAME...]", help: "space name(s) to serve, comma-separated (env SPACES_SPACES)"),
        CommandLineFlag("token", value: "T", help: "worker token of the space(s), sent in `register` and the auth payload (env SPACES_TOKEN)"),
        CommandLineFlag("concurrency", value: "N", help: "requests processed at once (default 1; the server may cap it)"),
        CommandLineFlag("exec", value: "CMD", help: """
            run CMD per request: payload JSON on stdin, stdout is the result (a JSON object as is,
            other text as {text_output}); a non-zero exit reports status failed with stderr
            """),
        CommandLineFlag("exec-timeout", value: "S", help: "seconds before an --exec command is killed (default 600; 0: never)"),
        CommandLineFlag("delay", value: "S", help: "seconds the built-in simulation takes per request (default 1)"),
        CommandLineFlag("transports", value: "LIST", help: "polling,websocket (default: polling then upgrade), or websocket / polling alone"),
        CommandLineFlag("verbose", help: "log every message"),
    ]

    static let usage = CommandLineFlags.usage(
        synopsis: "usage: spaces-worker --spaces NAME[,NAME...] [--host URL] [--token T] [--concurrency N] [--exec CMD] [--verbose]",
        flags: flags)

    static func main() async {
        StopSignals.install()
        let flags = CommandLineFlags.parseOrExit(program: "spaces-worker", accepting: Self.flags)
        if flags.has("help") {
            print(usage, terminator: "")
            return
        }
        let spaces = (flags.string("spaces", env: "SPACES_SPACES") ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !spaces.isEmpty else {
            FileHandle.standardError.write(Data("spaces-worker: --spaces is required\n\n\(usage)".utf8))
            exit(2)
        }
        var configuration = WorkerConfiguration(
            host: flags.string("host", env: "SPACES_HOST") ?? "http://localhost:5001", spaces: spaces)
        configuration.token = flags.string("token", env: "SPACES_TOKEN")
        configuration.concurrency = max(1, flags.int("concurrency", default: 1))
        configuration.command = flags.string("exec").map {
            CommandRunner(command: $0, timeoutSeconds: Double(flags.string("exec-timeout") ?? "600") ?? 600)
        }
        configuration.delaySeconds = Double(flags.string("delay") ?? "1") ?? 1
        configuration.verbose = flags.has("verbose")
        if let transports = flags.string("transports") {
            configuration.transports = transports.split(separator: ",").compactMap { EngineTransport(rawValue: String($0)) }
        }
        do {
            let worker = try Worker(configuration)
            await worker.run()
        } catch {
            FileHandle.standardError.write(Data("spaces-worker: \(error)\n".utf8))
            exit(1)
        }
    }
}

/// What the worker was told on the command line.
struct WorkerConfiguration: Sendable {
    var host: String
    var spaces: [String]
    var token: String?
    var concurrency = 1
    var command: CommandRunner?
    var delaySeconds = 1.0
    var verbose = false
    var transports: [EngineTransport] = [.polling, .websocket]
}

/// Registers and serves requests; runs until the process is stopped.
final class Worker: Sendable {
    let configuration: WorkerConfiguration
    let manager: SocketManager
    let socket: ClientSocket
    private let slots: RequestSlots
    /// Requests received and not answered yet (waiting for a slot or being processed).
    private let pending = Mutex<Set<String>>([])

    init(_ configuration: WorkerConfiguration) throws {
        self.configuration = configuration
        var options = SocketManagerOptions()
        options.transports = configuration.transports
        options.maxMessageSize = 64 * 1024 * 1024
        // Handlers are installed first, then `run()` connects: no connect event can be missed.
        options.autoConnect = false
        // The log's loop: lines written there are gathered per iteration.
        self.manager = try SocketManager(url: configuration.host, options: options, loop: WorkerLog.shared.loop)
        var socketOptions = ClientSocketOptions()
        if let token = configuration.token { socketOptions.auth = ["token": .string(token)] }
        // Results of a dropped connection are delivered when it comes back.
        socketOptions.bufferWhileDisconnected = true
        self.socket = self.manager.socket("/", options: socketOptions)
        self.slots = RequestSlots(configuration.concurrency)
    }

    func log(_ message: String) {
        WorkerLog.shared.write(message)
    }

    func run() async {
        let socket = self.socket
        let configuration = self.configuration
        self.log("connecting to \(configuration.host) for \(configuration.spaces.joined(separator: ", "))")
        socket.onConnect { [self] in
            self.log("connected (id \(socket.id ?? "?")); registering")
            for space in configuration.spaces {
                var data: JSONObject = ["space_name": .string(space), "concurrency": .int(Int64(configuration.concurrency))]
                if let token = configuration.token { data["token"] = .string(token) }
                socket.emit("register", .object(data))
            }
        }
        socket.onDisconnect { [self] reason in
            self.log("disconnected: \(reason)")
            if !reason.reconnects {
                // The server sent us away (e.g. the space already has a worker): try again later.
                Task {
                    try? await Task.sleep(for: .seconds(5))
                    socket.connect()
                }
            }
        }
        socket.onConnectError { [self] error in self.log("connection error: \(error.message)") }
        socket.on("register_response") { [self] args, _ in
            let data = args.first
            if data?["success"]?.boolValue == true {
                self.log("Registration successful! \(data?["message"]?.stringValue ?? "")")
            } else {
                self.log("Registration failed: \(data?["message"]?.stringValue ?? "unknown error")")
            }
        }
        // One handler for every event, on the client's loop: a request's verbose line comes before its result.
        socket.onAny { [self] name, args in
            if configuration.verbose { self.log("<- \(name) \(args.map { JSONSerializer.string($0) }.joined(separator: " "))") }
            if name == "inference_request" { self.received(args.first) }
        }
        socket.connect()
        // Everything happens in the handlers; this task only keeps `main` waiting.
        while true { try? await Task.sleep(for: .seconds(3600)) }
    }

    /// An `inference_request`, on the client's loop.
    private func received(_ request: JSONValue?) {
        guard let data = request, let requestID = data["request_id"]?.stringValue else { return }
        // The server delivers a request again after a reconnection. If this process still has it, the copy
        // is dropped: the first one answers on the new connection, which now holds the request.
        guard self.pending.withLock({ $0.insert(requestID).inserted }) else {
            self.log("request \(requestID): delivered again while still in progress here; not run twice")
            return
        }
        if self.configuration.command == nil && self.configuration.delaySeconds <= 0 {
            // Nothing to wait for: answered right here, so the results of the requests that came in one read
            // leave in one write, with no task or thread hop per request.
            let (status, result) = self.simulate(data, start: Date())
            self.answer(requestID, status: status, result: result)
            return
        }
        self.slots.run { [self] in
            let (status, result) = await self.process(data)
            self.answer(requestID, status: status, result: result)
        }
    }

    private func answer(_ requestID: String, status: String, result: JSONValue) {
        _ = self.pending.withLock { $0.remove(requestID) }
        // Keys in sorted order, as the `[String: JSONValue]` literal this replaces was sent.
        var message = JSONObject()
        message["request_id"] = .string(requestID)
        message["result"] = result
        message["status"] = .string(status)
        self.socket.emit("inference_result", arguments: [.object(message)])
        self.log("request \(requestID): \(status)")
    }

    /// Produces `(status, result)` for one request.
    func process(_ request: JSONValue) async -> (String, JSONValue) {
        if let command = self.configuration.command {
            let payload = request["payload"] ?? .object(JSONObject())
            var environment: [String: String] = [:]
            environment["SPACES_REQUEST_ID"] = request["request_id"]?.stringValue
            environment["SPACES_SPACE_NAME"] = request["space_name"]?.stringValue
            environment["SPACES_UPLOAD_URL"] = request["upload_url"]?.stringValue
            environment["SPACES_REQUEST_TOKEN"] = request["token"]?.stringValue
            do {
                let outcome = try await command.run(input: Data(JSONSerializer.serialize(payload)), environment: environment)
                return CommandRunner.result(of: outcome)
            } catch {
                return ("failed", ["error": .string("cannot run command: \(error)")])
            }
        }
        let start = Date()
        if self.configuration.delaySeconds > 0 {
            try? await Task.sleep(for: .milliseconds(Int(self.configuration.delaySeconds * 1000)))
        }
        return self.simulate(request, start: start)
    }

    /// The original worker's simulation: a result whose text_output contains the prompt.
    private func simulate(_ request: JSONValue, start: Date) -> (String, JSONValue) {
        let prompt = request["payload"]?["prompt"]?.stringValue ?? ""
        let elapsed = Date().timeIntervalSince(start)
        return ("completed", [
            "text_output": .string("Processed by the Swift worker: \(prompt)"),
            "confidence": 0.95,
            "model_used": "spaces-worker-simulation",
            "processing_time_seconds": .double((elapsed * 1000).rounded() / 1000),
            "tokens_used": .int(Int64(Self.wordCount(prompt) + 8)),
            "timestamp": .string(ISOTimestamp.string()),
        ])
    }

    /// `prompt.split(separator: " ").count`, without the array and the grapheme breaking for ASCII text.
    static func wordCount(_ prompt: String) -> Int {
        let utf8 = prompt.utf8
        guard utf8.allSatisfy({ $0 < 0x80 }) else { return prompt.split(separator: " ").count }
        var count = 0
        var previous = UInt8(ascii: " ")
        for byte in utf8 {
            if byte != UInt8(ascii: " ") && previous == UInt8(ascii: " ") { count += 1 }
            previous = byte
        }
        return count
    }
}

/// SIGINT, SIGTERM and SIGHUP end the worker together with the --exec commands it is running (each runs in a
/// process group of its own, so neither a terminal's Ctrl-C nor the worker's death would reach them).
///
/// Real handlers, not SIG_IGN: ignored signals stay ignored across exec, so the commands would inherit them
/// (SIGPIPE included), while handlers go back to the default in the commands.
enum StopSignals {
    /// The write end of the pipe the handler signals through (set once, before the handlers are installed).
    nonisolated(unsafe) private static var writeFD: Int32 = -1

    static func install() {
        // A write to a closed socket or pipe gives EPIPE instead of ending the process.
        signal(SIGPIPE) { _ in }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }  // not for the commands
        self.writeFD = fds[1]
        let readFD = fds[0]
        Thread.detachNewThread {
            var number: UInt8 = 0
            while read(readFD, &number, 1) != 1 {
                if errno != EINTR { return }
            }
            RunningCommands.killAll()
            WorkerLog.shared.flushNow()
            exit(128 + Int32(number))
        }
        for number in [SIGINT, SIGTERM, SIGHUP] {
            // Only async-signal-safe work here: one write.
            let previous = signal(number) { number in
                var byte = UInt8(truncatingIfNeeded: number)
                _ = write(StopSignals.writeFD, &byte, 1)
            }
            // A signal ignored on entry (nohup, a background job) stays ignored.
            if unsafeBitCast(previous, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self) {
                signal(number, SIG_IGN)
            }
        }
    }
}
