// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "SocketIOSwift",
    products: [
        .library(name: "Transport", targets: ["Transport"]),
        .library(name: "HTTPKit", targets: ["HTTPKit"]),
        .library(name: "EngineIO", targets: ["EngineIO"]),
        .library(name: "SocketIO", targets: ["SocketIO"]),
        .executable(name: "eio-echo", targets: ["eio-echo"]),
        .executable(name: "sio-echo", targets: ["sio-echo"]),
        .executable(name: "sio-load", targets: ["sio-load"]),
        .library(name: "SocketIOClient", targets: ["SocketIOClient"]),
        .library(name: "Redis", targets: ["Redis"]),
        .library(name: "MessagePack", targets: ["MessagePack"]),
        .library(name: "SocketIORedis", targets: ["SocketIORedis"]),
        .executable(name: "redis-bench", targets: ["redis-bench"]),
        .executable(name: "spaces-worker", targets: ["spaces-worker"]),
        .executable(name: "spaces", targets: ["SpacesApp"]),
    ],
    targets: [
        // epoll, eventfd, timerfd and socket helpers that Glibc does not expose to Swift.
        .target(name: "CEngineIOShims"),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // System OpenSSL (libssl-dev) for https/wss and rediss.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // The event loop, timers, TCP, the TLS client stream and byte buffers: what every protocol stands on.
        .target(name: "Transport", dependencies: ["CEngineIOShims", "COpenSSL"]),
        // HTTP/1.1 server and client, router, forms, static files, gzip, and the WebSocket codec and handshake.
        .target(name: "HTTPKit", dependencies: ["Transport", "CZlib"]),
        // The Engine.IO v4 codec and server.
        .target(name: "EngineIO", dependencies: ["Transport", "HTTPKit"]),
        // The Socket.IO v5 server; it serves our browser client (BrowserClient/socket.io.js, compiled in).
        .target(name: "SocketIO", dependencies: ["EngineIO", "HTTPKit", "Transport"],
                resources: [.embedInCode("BrowserClient/socket.io.js")]),
        // MessagePack as notepack.io writes it (the Redis adapter's broadcasts); pure, no dependency.
        .target(name: "MessagePack"),
        // The Redis adapter and emitter, wire-compatible with Node's @socket.io/redis-adapter 8.3 and redis-emitter 5.
        .target(name: "SocketIORedis", dependencies: ["SocketIO", "HTTPKit", "Transport", "Redis", "MessagePack"]),
        // The benchmark app of shared/perf (echo, echo-ack, join, broadcast): sio-echo serves it, tests run it.
        .target(name: "SocketIOBenchmarkApp", dependencies: ["SocketIO"]),
        .executableTarget(name: "eio-echo", dependencies: ["EngineIO", "HTTPKit", "Transport"]),
        .executableTarget(name: "sio-echo", dependencies: ["SocketIO", "EngineIO", "HTTPKit", "Transport", "SocketIOBenchmarkApp", "SocketIORedis", "Redis"]),
        // A Socket.IO load generator on our event loop and client codecs (the scenarios of shared/perf's sioload).
        .executableTarget(name: "sio-load", dependencies: ["SocketIO", "EngineIO", "HTTPKit", "Transport"]),
        // System SQLite (libsqlite3) for the SpacesApp store.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // System libpq (libpq-dev) for the SpacesApp store on PostgreSQL (`spaces --database postgres://...`).
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // The SpacesApp site; its product is the `spaces` executable.
        .executableTarget(
            name: "SpacesApp", dependencies: ["SocketIO", "EngineIO", "HTTPKit", "Transport", "CSQLite", "CLibPQ", "SocketIORedis", "Redis"],
            // The pages' stylesheet and scripts, compiled in: the binary serves them with nothing beside it.
            resources: [
                .embedInCode("Assets/spaces.css"), .embedInCode("Assets/live.js"), .embedInCode("Assets/space.js"),
                .embedInCode("Assets/home.js"), .embedInCode("Assets/admin.js"),
            ]),
        .target(name: "SocketIOClient", dependencies: ["SocketIO", "EngineIO", "HTTPKit", "Transport"]),
        // A Redis client (RESP2/RESP3, pipelining, pub/sub, reconnection) on our event loop; TLS through Transport.
        .target(name: "Redis", dependencies: ["Transport"]),
        // Pipelined PUBLISH throughput of the Redis client (the adapter's hot path), against a running redis-server.
        .executableTarget(name: "redis-bench", dependencies: ["Redis", "Transport"]),
        // The Swift SpacesApp worker (SocketIOClient's showcase).
        .executableTarget(name: "spaces-worker", dependencies: ["SocketIOClient", "EngineIO", "HTTPKit", "Transport", "CEngineIOShims"]),
        // The in-process Socket.IO server and the event recorder that the Socket.IO test targets share.
        .target(name: "SocketIOTestSupport", dependencies: ["SocketIO", "EngineIO", "HTTPKit", "Transport"], path: "Tests/SocketIOTestSupport"),
        .testTarget(
            name: "SocketIOClientTests",
            dependencies: ["SocketIOClient", "SocketIO", "EngineIO", "HTTPKit", "Transport", "SocketIOTestSupport"],
            exclude: ["Support/python_sio_server.py"]
        ),
        .testTarget(
            name: "EngineIOTests",
            dependencies: ["EngineIO", "HTTPKit", "Transport", "CZlib"]
        ),
        // Per-thread malloc and socket-syscall counters (interposed) for the performance guard tests.
        .target(name: "CTestCounters", path: "Tests/CTestCounters"),
        .testTarget(
            name: "SocketIOTests",
            dependencies: [
                "SocketIO", "EngineIO", "HTTPKit", "Transport", "CTestCounters", "SocketIOBenchmarkApp", "SocketIOTestSupport",
            ]
        ),
        .testTarget(
            name: "SIOLoadTests",
            dependencies: ["sio-load", "SocketIO", "EngineIO", "Transport", "SocketIOBenchmarkApp", "SocketIOTestSupport"]
        ),
        .testTarget(
            name: "RedisTests",
            dependencies: ["Redis", "Transport"]
        ),
        .testTarget(
            name: "MessagePackTests",
            dependencies: ["MessagePack"]
        ),
        .testTarget(
            name: "SocketIORedisTests",
            dependencies: ["SocketIORedis", "SocketIO", "Transport", "Redis", "MessagePack", "SocketIOClient", "SocketIOTestSupport"],
            exclude: ["Support/python_cluster_client.py"]
        ),
        .testTarget(
            name: "SpacesAppTests",
            dependencies: ["SpacesApp", "EngineIO", "HTTPKit"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets, one per parser (Fuzz/Targets/<name>), declared only when SOCKETIO_FUZZ=1: `make fuzz` builds
// them with `-sanitize=fuzzer,address` on every module into .build-fuzz; a plain `swift build` never sees them
// (they have no `main` without libFuzzer).
if Context.environment["SOCKETIO_FUZZ"] == "1" {
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("FuzzHTTPRequest", ["HTTPKit", "Transport"]),
        ("FuzzHTTPResponse", ["HTTPKit", "Transport"]),
        ("FuzzMultipart", ["HTTPKit"]),
        ("FuzzForms", ["HTTPKit"]),
        ("FuzzWebSocket", ["HTTPKit", "Transport"]),
        ("FuzzInflate", ["HTTPKit"]),
        ("FuzzEngineIO", ["EngineIO"]),
        ("FuzzSocketIO", ["SocketIO", "FuzzJSONEquivalence"]),
        ("FuzzJSON", ["SocketIO", "FuzzJSONEquivalence"]),
        ("FuzzRESP", ["Redis", "Transport"]),
        ("FuzzMessagePack", ["MessagePack"]),
    ]
    package.targets.append(.target(name: "CLibFuzzer", path: "Fuzz/Targets/CLibFuzzer"))
    package.targets.append(.target(name: "FuzzSupport", dependencies: ["CLibFuzzer"], path: "Fuzz/Targets/FuzzSupport"))
    package.targets.append(.target(name: "FuzzJSONEquivalence", dependencies: ["SocketIO"], path: "Fuzz/Targets/FuzzJSONEquivalence"))
    for target in fuzzTargets {
        package.targets.append(
            .executableTarget(name: target.name, dependencies: ["FuzzSupport"] + target.dependencies, path: "Fuzz/Targets/\(target.name)"))
    }
}
