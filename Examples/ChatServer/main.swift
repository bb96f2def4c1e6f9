import SocketIO

// chat-server [port]: the chat page on http://localhost:3000/ and its Socket.IO events.
let port = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 3000
let app = try SocketIOApp(port: port)

app.router.get("/") { _ in
    .html(String(decoding: PackageResources.index_html, as: UTF8.self))
}

app.io.on(.connection) { socket in
    let name = socket.handshake.auth["name"]?.stringValue ?? "guest"
    socket.broadcast.emit("joined", name)

    // Everyone (the sender too) gets the message, then the sender's acknowledgement.
    socket.on("chat") { args, ack in
        guard let text = args.first?.stringValue, !text.isEmpty else {
            ack?(false)
            return
        }
        app.io.emit("chat", ["from": name, "text": text])
        ack?(true)
    }

    socket.on(.disconnect) { _ in
        app.io.emit("left", name)
    }
}

print("chat-server listening on port \(try app.start())")
try await app.run()
