import EngineIO
import Foundation
@testable import SocketIOClient
import SocketIOTestSupport
import XCTest

/// Events, acknowledgements both ways and binary over each transport mode, against our own server.
final class ClientBasicsTests: XCTestCase {
    private var server: InProcessSocketIOServer!

    override func setUpWithError() throws {
        self.server = try ClientTestServer.make()
    }

    override func tearDown() {
        self.server.shutdown()
        self.server = nil
    }

    private func makeManager(_ transports: [EngineTransport], configure: (inout SocketManagerOptions) -> Void = { _ in }) throws -> SocketManager {
        var options = SocketManagerOptions()
        options.transports = transports
        options.reconnectionDelay = .milliseconds(50)
        options.reconnectionDelayMax = .milliseconds(200)
        configure(&options)
        return try SocketManager(url: self.server.url, options: options)
    }

    private func exerciseBasics(_ transports: [EngineTransport], expectTransport: String) async throws {
        let manager = try self.makeManager(transports)
        let socket = manager.socket("/", options: ClientSocketOptions(auth: ["token": "abc"]))
        let welcome = socket.events("welcome")
        try await socket.waitForConnection(timeout: .seconds(10))
        XCTAssertNotNil(socket.id)
        let first = await next(welcome)
        XCTAssertEqual(first?.arguments.first, "/")
        XCTAssertEqual(first?.arguments.dropFirst().first, ["token": "abc"])

        // Event round trip.
        let echoes = socket.events("echo")
        socket.emit("echo", "hello", 42, ["nested": [1, 2, 3]])
        let echo = await next(echoes)
        XCTAssertEqual(echo?.arguments, ["hello", 42, ["nested": [1, 2, 3]]])

        // Client → server acknowledgement.
        let answer = try await socket.emitWithAck("echo-ack", "a", 1, timeout: .seconds(5))
        XCTAssertEqual(answer, ["a", 1])

        // Binary anywhere in the arguments, both ways.
        let blob = Data((0...255).map { UInt8($0) })
        let binaryAnswer = try await socket.emitWithAck("echo-ack", .data(blob), ["inner": .binary([1, 2, 3]), "list": [.binary([]), 7]])
        XCTAssertEqual(binaryAnswer.first?.dataValue, blob)
        XCTAssertEqual(binaryAnswer.last?["inner"]?.binaryValue, [1, 2, 3])
        XCTAssertEqual(binaryAnswer.last?["list"]?[0]?.binaryValue, [UInt8]())

        // Server → client acknowledgement.
        let answers = socket.events("answer")
        socket.on("question") { args, ack in ack?.send(arguments: args + ["from-client"]) }
        socket.emit("ask-client", "q", .binary([9, 9]))
        let serverAnswer = await next(answers)
        XCTAssertEqual(serverAnswer?.arguments, ["q", .binary([9, 9]), "from-client"])

        // The transport in use, once any upgrade has settled.
        let deadline = Date(timeIntervalSinceNow: 10)
        var transport = ""
        while Date() < deadline {
            transport = try await socket.emitWithAck("transport").first?.stringValue ?? ""
            if transport == expectTransport { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTAssertEqual(transport, expectTransport)

        manager.disconnect()
    }

    func testBasicsOverPollingOnly() async throws {
        try await self.exerciseBasics([.polling], expectTransport: "polling")
    }

    func testBasicsOverWebSocketOnly() async throws {
        try await self.exerciseBasics([.websocket], expectTransport: "websocket")
    }

    func testBasicsWithUpgradeFromPolling() async throws {
        try await self.exerciseBasics([.polling, .websocket], expectTransport: "websocket")
    }
}
