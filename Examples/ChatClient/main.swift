import SocketIOClient

// chat-client [url] [name]: sends each line read from the terminal to the chat and prints what others say.
let arguments = CommandLine.arguments.dropFirst()
let url = arguments.first ?? "http://localhost:3000"
let name = arguments.dropFirst().first ?? "cli"

let manager = try SocketManager(url: url)
let socket = manager.socket("/", options: ClientSocketOptions(auth: ["name": .string(name)]))

socket.on("chat") { args, _ in
    guard let message = args.first else { return }
    print("\(message["from"]?.stringValue ?? "?"): \(message["text"]?.stringValue ?? "")")
}
socket.on("joined") { args, _ in print("* \(args.first?.stringValue ?? "someone") joined") }
socket.on("left") { args, _ in print("* \(args.first?.stringValue ?? "someone") left") }

try await socket.waitForConnection()
print("connected to \(url) as \(name)")
while let line = readLine() {
    // The server answers once it has broadcast the line: messages are printed in the order they were sent.
    let answer = try await socket.emitWithAck("chat", line, timeout: .seconds(5))
    if answer.first?.boolValue != true { print("(not delivered)") }
}
socket.disconnect()
