// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "SocketIOSwift",
    products: [
        .library(name: "EngineIO", targets: ["EngineIO"]),
        .library(name: "SocketIO", targets: ["SocketIO"]),
        .executable(name: "eio-echo", targets: ["eio-echo"]),
        .executable(name: "sio-echo", targets: ["sio-echo"]),
    ],
    targets: [
        // epoll, eventfd, timerfd and socket helpers that Glibc does not expose to Swift.
        .target(name: "CEngineIOShims"),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "EngineIO",
            dependencies: ["CEngineIOShims", "CZlib"]
        ),
        .target(name: "SocketIO", dependencies: ["EngineIO"]),
        .executableTarget(name: "eio-echo", dependencies: ["EngineIO"]),
        .executableTarget(name: "sio-echo", dependencies: ["SocketIO", "EngineIO"]),
        .testTarget(
            name: "EngineIOTests",
            dependencies: ["EngineIO"]
        ),
        .testTarget(
            name: "SocketIOTests",
            dependencies: ["SocketIO"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
