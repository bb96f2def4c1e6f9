// swift-tools-version:6.0
import PackageDescription

// Three small programs written the way a new user of the library would write them: each imports
// `SocketIO` (servers) or `SocketIOClient` (the CLI client) and nothing else. `make examples-test` builds
// them and runs each against real clients.
let package = Package(
    name: "SocketIOExamples",
    dependencies: [.package(name: "SocketIOSwift", path: "..")],
    targets: [
        // A chat room: the page at `/`, messages broadcast to everyone.
        .executableTarget(
            name: "chat-server",
            dependencies: [.product(name: "SocketIO", package: "SocketIOSwift")],
            path: "ChatServer",
            resources: [.embedInCode("Public/index.html")]),
        // A terminal client of the chat: lines typed are sent, messages received are printed.
        .executableTarget(
            name: "chat-client",
            dependencies: [.product(name: "SocketIOClient", package: "SocketIOSwift")],
            path: "ChatClient"),
        // Named counters: clients watch a counter (a room) and see every change live.
        .executableTarget(
            name: "live-counter",
            dependencies: [.product(name: "SocketIO", package: "SocketIOSwift")],
            path: "LiveCounter"),
    ],
    swiftLanguageModes: [.v6]
)
