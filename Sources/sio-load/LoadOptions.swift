/// What to run and against which server: the options of `sioload` (shared/perf) that `sio-load` implements,
/// with the same names and defaults, so one command line drives either generator.
struct LoadOptions: Sendable, Equatable {
    /// The scenarios (first argument).
    enum Scenario: String, Sendable, Equatable {
        /// C connections each keep W `echo` (or `echo-ack`) messages in flight.
        case echo
        /// An open loop: R messages per second over C connections, latency from each one's intended send time.
        case rate
        /// N clients join room `bench`; a control client triggers K broadcasts.
        case broadcast
        /// Idle connections up to each of the steps: handshakes per second, server RSS per connection.
        case capacity
        /// A long run: C WebSocket and `--polling-conns` polling clients in room `bench`, `--churn` of them
        /// replaced every second, `--rate` echoes and `--brate` broadcasts per second, for `--duration`.
        case soak
    }

    /// The Engine.IO transport the clients use.
    enum Transport: String, Sendable, Equatable {
        case websocket
        case polling
    }

    var scenario: Scenario = .echo
    var host = "127.0.0.1"
    var port = 0
    var conns = 100
    var window = 4
    var duration = 10.0
    var warmup = 2.0
    /// Total messages per second of `rate`.
    var rate = 2000.0
    var payload = 32
    var ack = false
    var transport = Transport.websocket
    /// wss instead of ws (certificate not verified: a benchmark of our own server with a test certificate).
    var tls = false
    /// Handshakes in progress at once while connecting.
    var pending = 32
    var clients = 1000
    var broadcasts = 100
    var bwindow = 1
    var bwarm = 10
    /// Ports of several servers (a cluster): the clients, except broadcast's control client, are spread
    /// over them in turn; empty: every client on `port`.
    var ports: [Int] = []
    /// Broadcasts per second: `broadcast` sends on this schedule instead of keeping `bwindow` in flight
    /// (0: the window), and latency counts from each one's intended send time.
    var brate = 0.0
    /// Server processes whose CPU is reported one by one (`server_cpu_s_<i>`), e.g. the nodes of a cluster.
    var serverPIDs: [Int32] = []
    /// The connection counts `capacity` stops at, increasing.
    var steps = [1000, 5000, 10000]
    /// Seconds `capacity` waits at each step before sampling the server.
    var settle = 2.0
    /// Session id whose processes' CPU and RSS are sampled (the server started with setsid).
    var serverSID: Int32 = 0
    /// A single server process to sample instead of a session.
    var serverPID: Int32 = 0
    /// Hard deadline for the whole run, seconds.
    var maxTime = 90.0
    /// Seconds the clients have to connect before the run gives up.
    var connectTimeout = 30.0
    var label = ""
    /// The Socket.IO path.
    var path = "/socket.io/"
    /// Local addresses the WebSocket clients connect from, in turn (each has its own ephemeral ports); empty:
    /// the kernel's choice.
    var sources: [String] = []
    /// `soak`: polling clients besides the `--conns` WebSocket ones.
    var pollingConns = 0
    /// `soak`: clients disconnected and replaced by new ones every second.
    var churn = 0.0
    /// `soak`: seconds between progress lines.
    var reportEvery = 10.0

    static let usage = """
        usage: sio-load echo|rate|broadcast|capacity|soak --port P [options]
          --host H            server address (default 127.0.0.1)
          --conns C           connections for echo/rate (100)
          --window W          messages in flight per connection, echo (4)
          --duration T        measured seconds (10); --warmup S unmeasured seconds first (2)
          --rate R            total msgs/s for 'rate' (2000)
          --ack               use 'echo-ack' with acknowledgements instead of 'echo'
          --transport websocket|polling
          --tls               wss (websocket only; the certificate is not verified)
          --payload B         bytes of string payload per message (32)
          --clients N --broadcasts K --bwindow W --bwarm K0   broadcast (1000, 100, 1, 10)
          --ports P1,P2,...   spread the clients over these servers (broadcast's control client stays on --port)
          --brate R           broadcast: R broadcasts/s on a schedule instead of --bwindow in flight
          --server-pids A,B   also report each of these processes' CPU seconds (server_cpu_s_0, ...)
          --steps a,b,c --settle S   capacity (1000,5000,10000; 2)
          --pending P         handshakes in flight while connecting (32)
          --server-sid SID    session id of the server (CPU/RSS of every process in it, from /proc)
          --server-pid PID    one server process to sample instead
          --max-time S        hard deadline for the whole run (90)
          --connect-timeout S seconds for all clients to connect (30)
          --path P            Socket.IO path (/socket.io/)
          --sources A1,A2,... connect the WebSocket clients from these local addresses in turn (e.g. 127.0.0.2,127.0.0.3)
          --polling-conns N --churn R --report-every S   soak: N polling clients besides --conns WebSocket ones,
                              R clients replaced per second, a progress line every S seconds (0, 0, 10);
                              --rate echoes/s (2000) and --brate broadcasts/s to every client (0) for --duration
          --label TEXT        copied into the JSON output
        """

    /// Why the command line was refused.
    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    /// Parses the arguments after the program name; unknown options are refused, as `sioload` does.
    static func parse(_ arguments: [String]) throws(Invalid) -> LoadOptions {
        guard let first = arguments.first, let scenario = Scenario(rawValue: first) else {
            throw Invalid(description: "first argument must be a scenario: echo, rate, broadcast, capacity or soak")
        }
        var options = LoadOptions()
        options.scenario = scenario
        var index = 1
        func value(_ name: String) throws(Invalid) -> String {
            // A following option is never taken as the value: `--host --port 80` lacks a host.
            guard index + 1 < arguments.count, !arguments[index + 1].hasPrefix("--") else {
                throw Invalid(description: "\(name) needs a value")
            }
            index += 1
            return arguments[index]
        }
        func int(_ name: String) throws(Invalid) -> Int {
            let text = try value(name)
            guard let number = Int(text) else { throw Invalid(description: "\(name): not an integer: \(text)") }
            return number
        }
        func number(_ name: String, _ what: String, accepting accepts: (Double) -> Bool) throws(Invalid) -> Double {
            let text = try value(name)
            guard let number = Double(text), number.isFinite, accepts(number) else {
                throw Invalid(description: "\(name): not \(what): \(text)")
            }
            return number
        }
        func seconds(_ name: String) throws(Invalid) -> Double {
            // Bounded so that nanosecond deadlines cannot overflow.
            try number(name, "a number of seconds up to 10^7") { (0...1e7).contains($0) }
        }
        while index < arguments.count {
            let name = arguments[index]
            switch name {
            case "--host": options.host = try value(name)
            case "--port": options.port = try int(name)
            case "--conns": options.conns = try int(name)
            case "--window": options.window = try int(name)
            case "--duration": options.duration = try seconds(name)
            case "--warmup": options.warmup = try seconds(name)
            case "--rate":
                options.rate = try number(name, "a number of messages per second, above 0 and up to 10^8") {
                    $0 > 0 && $0 <= 1e8
                }
            case "--payload": options.payload = try int(name)
            case "--ack": options.ack = true
            case "--tls": options.tls = true
            case "--transport":
                let text = try value(name)
                guard let transport = Transport(rawValue: text) else {
                    throw Invalid(description: "--transport: websocket or polling, not \(text)")
                }
                options.transport = transport
            case "--pending": options.pending = try int(name)
            case "--clients": options.clients = try int(name)
            case "--broadcasts": options.broadcasts = try int(name)
            case "--bwindow": options.bwindow = try int(name)
            case "--bwarm": options.bwarm = try int(name)
            case "--steps": options.steps = try Self.steps(try value(name))
            case "--ports": options.ports = try Self.numbers(name, try value(name), in: 1...65535)
            case "--brate":
                options.brate = try number(name, "a number of broadcasts per second, above 0 and up to 10^6") {
                    $0 > 0 && $0 <= 1e6
                }
            case "--server-pids":
                options.serverPIDs = try Self.numbers(name, try value(name), in: 1...Int(Int32.max)).map { Int32($0) }
            case "--settle": options.settle = try seconds(name)
            case "--server-sid": options.serverSID = Int32(clamping: try int(name))
            case "--server-pid": options.serverPID = Int32(clamping: try int(name))
            case "--max-time": options.maxTime = try seconds(name)
            case "--connect-timeout": options.connectTimeout = try seconds(name)
            case "--path": options.path = try value(name)
            case "--label": options.label = try value(name)
            case "--sources":
                options.sources = try value(name).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                guard (1...64).contains(options.sources.count), !options.sources.contains(where: \.isEmpty) else {
                    throw Invalid(description: "--sources: 1 to 64 comma-separated addresses")
                }
            case "--polling-conns":
                options.pollingConns = try int(name)
                guard options.pollingConns >= 0 else { throw Invalid(description: "--polling-conns: not negative") }
            case "--churn":
                options.churn = try number(name, "a number of clients per second, 0 to 10^5") { (0...1e5).contains($0) }
            case "--report-every":
                options.reportEvery = try number(name, "a number of seconds, 0.1 to 10^5") { (0.1...1e5).contains($0) }
            default: throw Invalid(description: name.hasPrefix("--") ? "unknown flag \(name)" : "unexpected argument \"\(name)\"")
            }
            index += 1
        }
        guard (1...65535).contains(options.port) else { throw Invalid(description: "--port is required (1-65535)") }
        guard options.conns > 0, options.window > 0, options.clients > 0, options.pending > 0,
              options.bwindow > 0, options.broadcasts > 0, options.bwarm >= 0 else {
            throw Invalid(description: "counts must be positive")
        }
        guard (0...60_000).contains(options.payload) else { throw Invalid(description: "--payload: 0 to 60000 bytes") }
        guard !options.label.contains("\""), !options.label.contains("\\") else {
            throw Invalid(description: "label must not contain quotes or backslashes")
        }
        if options.scenario == .broadcast && options.transport == .polling {
            throw Invalid(description: "broadcast runs over websocket only")
        }
        if options.tls && !options.sources.isEmpty {
            throw Invalid(description: "--sources runs over plain TCP only")
        }
        if options.tls && options.transport == .polling {
            throw Invalid(description: "--tls runs over websocket only")
        }
        if !options.path.hasSuffix("/") { options.path += "/" }
        return options
    }

    /// The port client `index` connects to: `ports` in turn for the first `clients` of them, else `port`.
    func port(forClient index: Int) -> Int {
        guard !self.ports.isEmpty, index < self.clients || self.scenario != .broadcast else { return self.port }
        return self.ports[index % self.ports.count]
    }

    /// The local address client `index` connects from: `sources` in turn, nil without them.
    func source(forClient index: Int) -> String? {
        self.sources.isEmpty ? nil : self.sources[index % self.sources.count]
    }

    /// A comma-separated list of at most 64 numbers within `range`.
    private static func numbers(_ name: String, _ text: String, in range: ClosedRange<Int>) throws(Invalid) -> [Int] {
        var numbers: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let number = Int(part), range.contains(number) else {
                throw Invalid(description: "\(name): comma-separated numbers in \(range), not \(text)")
            }
            numbers.append(number)
        }
        guard (1...64).contains(numbers.count) else { throw Invalid(description: "\(name): 1 to 64 numbers") }
        return numbers
    }

    /// `--steps`: increasing positive connection counts separated by commas, at most 16 (as `sioload`).
    private static func steps(_ text: String) throws(Invalid) -> [Int] {
        var steps: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let step = Int(part), step > (steps.last ?? 0) else {
                throw Invalid(description: "--steps: increasing positive counts such as 1000,5000,10000, not \(text)")
            }
            steps.append(step)
        }
        guard (1...16).contains(steps.count) else { throw Invalid(description: "--steps: 1 to 16 counts") }
        return steps
    }
}
