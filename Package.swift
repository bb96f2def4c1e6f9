// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "SocketIOSwift",
    products: [
        .library(name: "EngineIO", targets: ["EngineIO"]),
        .library(name: "SocketIO", targets: ["SocketIO"]),
        .executable(name: "eio-echo", targets: ["eio-echo"]),
        .executable(name: "sio-echo", targets: ["sio-echo"]),
        .executable(name: "sio-load", targets: ["sio-load"]),
        .library(name: "SocketIOClient", targets: ["SocketIOClient"]),
        .library(name: "Redis", targets: ["Redis"]),
        .executable(name: "spaces-worker", targets: ["spaces-worker"]),
        .executable(name: "spaces", targets: ["SpacesApp"]),
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
        // The benchmark app of shared/perf (echo, echo-ack, join, broadcast): sio-echo serves it, tests run it.
        .target(name: "SocketIOBenchmarkApp", dependencies: ["SocketIO"]),
        .executableTarget(name: "eio-echo", dependencies: ["EngineIO"]),
        .executableTarget(name: "sio-echo", dependencies: ["SocketIO", "EngineIO", "SocketIOBenchmarkApp"]),
        // A Socket.IO load generator on our event loop and client codecs (the scenarios of shared/perf's sioload).
        .executableTarget(name: "sio-load", dependencies: ["SocketIO", "EngineIO"]),
        // System SQLite (libsqlite3) for the SpacesApp store.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // The SpacesApp site; its product is the `spaces` executable.
        .executableTarget(
            name: "SpacesApp", dependencies: ["SocketIO", "EngineIO", "CSQLite"],
            // The pages' stylesheet and scripts, compiled in: the binary serves them with nothing beside it.
            resources: [
                .embedInCode("Assets/spaces.css"), .embedInCode("Assets/live.js"), .embedInCode("Assets/space.js"),
                .embedInCode("Assets/home.js"), .embedInCode("Assets/admin.js"),
            ]),
        // System OpenSSL (libssl-dev) for the client's https/wss.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .target(name: "SocketIOClient", dependencies: ["SocketIO", "EngineIO", "COpenSSL"]),
        // A Redis client (RESP2/RESP3, pipelining, pub/sub, reconnection) on our event loop.
        .target(name: "Redis", dependencies: ["EngineIO"]),
        // The Swift SpacesApp worker (SocketIOClient's showcase).
        .executableTarget(name: "spaces-worker", dependencies: ["SocketIOClient", "EngineIO", "CEngineIOShims"]),
        // The in-process Socket.IO server and the event recorder that the Socket.IO test targets share.
        .target(name: "SocketIOTestSupport", dependencies: ["SocketIO", "EngineIO"], path: "Tests/SocketIOTestSupport"),
        .testTarget(
            name: "SocketIOClientTests",
            dependencies: ["SocketIOClient", "SocketIO", "EngineIO", "SocketIOTestSupport"],
            exclude: ["Support/python_sio_server.py"]
        ),
        .testTarget(
            name: "EngineIOTests",
            dependencies: ["EngineIO"]
        ),
        // Per-thread malloc and socket-syscall counters (interposed) for the performance guard tests.
        .target(name: "CTestCounters", path: "Tests/CTestCounters"),
        .testTarget(
            name: "SocketIOTests",
            dependencies: ["SocketIO", "CTestCounters", "SocketIOBenchmarkApp", "SocketIOTestSupport"]
        ),
        .testTarget(
            name: "SIOLoadTests",
            dependencies: ["sio-load", "SocketIO", "EngineIO", "SocketIOBenchmarkApp", "SocketIOTestSupport"]
        ),
        .testTarget(
            name: "RedisTests",
            dependencies: ["Redis", "EngineIO"]
        ),
        .testTarget(
            name: "SpacesAppTests",
            dependencies: ["SpacesApp"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
