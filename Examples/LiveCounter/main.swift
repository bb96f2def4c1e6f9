import SocketIO

// live-counter [port]: named counters. A client `watch`es a counter (it joins the counter's room and gets its
// value), `increment`s one, and everyone watching it gets `count` at each change.

/// What `count` carries: any Encodable value can be an event argument.
struct Count: Encodable {
    let counter: String
    let value: Int
}

/// The counters' values, shared by every connection (an actor: handlers run on several threads).
actor Counters {
    private var values: [String: Int] = [:]

    func value(of counter: String) -> Int { values[counter, default: 0] }

    func increment(_ counter: String, by step: Int) -> Int {
        values[counter, default: 0] += step
        return values[counter, default: 0]
    }
}

let port = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 3000
let app = try SocketIOApp(port: port)
let counters = Counters()

app.io.on(.connection) { socket in
    socket.on("watch") { args, ack in
        guard let counter = args.first?.stringValue else { return }
        socket.join("counter:" + counter)
        ack?(Count(counter: counter, value: await counters.value(of: counter)))
    }

    socket.on("increment") { args, ack in
        guard let counter = args.first?.stringValue else { return }
        let step = args.dropFirst().first?.intValue ?? 1
        let value = await counters.increment(counter, by: step)
        app.io.to("counter:" + counter).emit("count", Count(counter: counter, value: value))
        ack?(value)
    }
}

print("live-counter listening on port \(try app.start())")
try await app.run()
