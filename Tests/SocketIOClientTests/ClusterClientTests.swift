import EngineIO
import Foundation
@testable import SocketIOClient
import XCTest

/// Our Swift client on two `sio-echo --redis` processes joined through a real redis-server
/// (Tests/Cluster/cluster_up.py starts them from the sio-echo built beside this test binary): what one
/// node is asked to do reaches the Swift client on the other, acks and binary included.
final class ClusterClientTests: XCTestCase {
    private var cluster: PythonServer?

    override func tearDown() {
        self.cluster?.stop()
        self.cluster = nil
    }

    private func startCluster() throws -> [Int] {
        let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        guard FileManager.default.isExecutableFile(atPath: binaries.appendingPathComponent("sio-echo").path) else {
            throw XCTSkip("sio-echo not built in \(binaries.path) (swift build --build-tests builds it)")
        }
        guard ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].contains(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("no redis-server (make redis-server installs it)")
        }
        let script = PythonServer.repositoryRoot.appendingPathComponent("Tests/Cluster/cluster_up.py")
        let cluster = try PythonServer(arguments: ["--bin", binaries.path, "--nodes", "2"], script: script)
        self.cluster = cluster
        guard let list = cluster.readyLine.split(separator: " ").last else { return [] }
        return list.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    private func connect(_ port: Int, _ namespace: String, name: String) async throws -> (SocketManager, ClientSocket) {
        var options = SocketManagerOptions()
        options.transports = [.websocket]
        let manager = try SocketManager(url: "http://127.0.0.1:\(port)", options: options)
        let socket = manager.socket(namespace, options: ClientSocketOptions(auth: ["name": .string(name)]))
        try await socket.waitForConnection(timeout: .seconds(15))
        return (manager, socket)
    }

    func testSwiftClientsOnTwoNodesReachEachOtherThroughRedis() async throws {
        let ports = try self.startCluster()
        XCTAssertEqual(ports.count, 2)
        guard ports.count == 2 else { return }
        for namespace in ["/", "/admin"] {
            let (managerA, asker) = try await self.connect(ports[0], namespace, name: "swift-a")
            let (managerB, member) = try await self.connect(ports[1], namespace, name: "swift-b")
            defer {
                managerA.disconnect()
                managerB.disconnect()
            }
            member.on("question") { args, ack in ack?(.string("swift-b-says-\(args.first?.stringValue ?? "")")) }
            let hellos = member.events("hello")

            let joined = try await member.emitWithAck("join", "swift-room", timeout: .seconds(10))
            XCTAssertEqual(joined, [true])
            let servers = try await asker.emitWithAck("server-count", timeout: .seconds(10))
            XCTAssertEqual(servers, [2])

            let request: JSONValue = ["room": "swift-room", "event": "hello", "args": ["x", .binary([1, 2, 255]), ["n": 1]]]
            let sent = try await asker.emitWithAck("to-room", request, timeout: .seconds(10))
            XCTAssertEqual(sent, [true])
            let hello = await next(hellos)
            XCTAssertEqual(hello?.arguments, ["x", .binary([1, 2, 255]), ["n": 1]], namespace)

            let found = try await asker.emitWithAck("fetch-sockets", ["room": "swift-room"], timeout: .seconds(10))
            XCTAssertEqual(found.first?.arrayValue?.map { $0["id"]?.stringValue }, [member.id], namespace)
            XCTAssertEqual(found.first?[0]?["data"], ["name": "swift-b"], namespace)

            let asked = try await asker.emitWithAck("broadcast-with-ack", ["room": "swift-room", "event": "question"],
                                                    timeout: .seconds(10))
            XCTAssertEqual(asked, [["err": nil, "responses": ["swift-b-says-q"]]], namespace)
        }
    }
}
