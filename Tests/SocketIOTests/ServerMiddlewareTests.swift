import EngineIO
import Foundation
import SocketIO
import SocketIOTestSupport
import XCTest

/// Namespace middlewares and dynamic namespaces.
final class ServerMiddlewareTests: XCTestCase {
    private var server: InProcessSocketIOServer!
    private let recorder = TestRecorder()
    private var dynamic: ParentNamespace!

    private static let user = SocketDataKey<String>("user")

    override func setUpWithError() throws {
        let recorder = self.recorder
        var dynamic: ParentNamespace?
        self.server = try TestSocketIOServer.make(options: { $0.cleanupEmptyChildNamespaces = true }) { io in
            let restricted = io.of("/restricted")
            restricted.use { socket, next in
                recorder.record("mw1")
                if socket.handshake.auth["token"]?.stringValue == "secret" {
                    socket.data[Self.user] = "ada"
                    next(nil)
                } else {
                    next(SocketConnectError("not authorized", data: ["reason": "bad token"]))
                }
            }
            restricted.use { socket, next in
                recorder.record("mw2")
                // Decide later, from another thread.
                Task {
                    try? await Task.sleep(nanoseconds: 10_000_000)
                    next(nil)
                }
            }
            restricted.on(.connection) { socket in
                socket.emit("welcome", .string(socket.data[Self.user] ?? "?"))
            }
            let parent = io.of(pattern: "^/dyn-[0-9]+$")!
            parent.use { socket, next in
                next(socket.nsp.name == "/dyn-13" ? SocketConnectError("unlucky") : nil)
            }
            parent.on(.connection) { socket in
                socket.emit("hello", .string(socket.nsp.name))
                socket.on(.disconnect) { _ in recorder.record("left:\(socket.nsp.name)") }
            }
            dynamic = parent
            io.of(matching: { name, auth in name.hasPrefix("/team-") && auth["member"]?.boolValue == true })
                .on(.connection) { socket in socket.emit("team", .string(socket.nsp.name)) }
        }
        self.dynamic = dynamic
    }

    override func tearDown() {
        self.server.shutdown()
        (self.server, self.dynamic) = (nil, nil)
    }

    func testMiddlewareRejectionCarriesMessageAndData() throws {
        let client = try SIOTestClient(port: self.server.port)
        try client.send(#"40/restricted,{"token":"nope"}"#)
        XCTAssertEqual(try client.nextText(), #"44/restricted,{"message":"not authorized","data":{"reason":"bad token"}}"#)
        XCTAssertEqual(self.recorder.all, ["mw1"], "the chain stops at the first refusal")
        // The connection stays usable: a later attempt with the right token succeeds.
        try client.send(#"40/restricted,{"token":"secret"}"#)
        XCTAssertTrue(try client.nextText().hasPrefix("40/restricted,{\"sid\""))
    }

    func testMiddlewaresRunInOrderAndMayAnswerFromAnotherThread() throws {
        let client = try SIOTestClient(port: self.server.port)
        try client.send(#"40/restricted,{"token":"secret"}"#)
        XCTAssertTrue(try client.nextText().hasPrefix("40/restricted,{\"sid\""))
        XCTAssertEqual(try client.nextText(), #"42/restricted,["welcome","ada"]"#)
        XCTAssertEqual(self.recorder.all, ["mw1", "mw2"])
    }

    func testRejectedClientIsStillClosedByTheConnectTimeout() throws {
        self.server.shutdown()
        self.server = try TestSocketIOServer.make(options: { $0.connectTimeout = 300 }) { io in
            io.use { _, next in next(SocketConnectError("no")) }
        }
        let client = try SIOTestClient(port: self.server.port)
        try client.send("40")
        XCTAssertEqual(try client.nextText(), #"44{"message":"no"}"#)
        XCTAssertTrue(client.waitForClose(timeout: 2))
    }

    func testPatternCreatesChildNamespacesOnDemand() throws {
        let client = try SIOTestClient(port: self.server.port)
        try client.connectNamespace("/dyn-42")
        XCTAssertEqual(try client.nextText(), #"42/dyn-42,["hello","/dyn-42"]"#)
        XCTAssertEqual(self.dynamic.children.map(\.name), ["/dyn-42"])
        XCTAssertTrue(self.server.io.namespaces.contains { $0.name == "/dyn-42" })
        try client.send("40/dyn-x")
        XCTAssertEqual(try client.nextText(), #"44/dyn-x,{"message":"Invalid namespace"}"#)
    }

    func testParentMiddlewareAppliesToChildren() throws {
        let client = try SIOTestClient(port: self.server.port)
        try client.send("40/dyn-13")
        XCTAssertEqual(try client.nextText(), #"44/dyn-13,{"message":"unlucky"}"#)
    }

    func testPredicateSeesTheAuthPayload() throws {
        let client = try SIOTestClient(port: self.server.port)
        try client.send(#"40/team-a,{"member":false}"#)
        XCTAssertEqual(try client.nextText(), #"44/team-a,{"message":"Invalid namespace"}"#)
        try client.connectNamespace("/team-a", auth: #"{"member":true}"#)
        XCTAssertEqual(try client.nextText(), #"42/team-a,["team","/team-a"]"#)
    }

    func testEmptyChildNamespaceIsRemoved() throws {
        let client = try SIOTestClient(port: self.server.port)
        try client.connectNamespace("/dyn-7")
        _ = try client.nextText()
        try client.send("41/dyn-7")
        XCTAssertTrue(self.recorder.wait(for: "left:/dyn-7"))
        let removed = TestRecorder().wait { _ in
            !self.server.io.namespaces.contains { $0.name == "/dyn-7" } && self.dynamic.children.isEmpty
        }
        XCTAssertTrue(removed)
    }
}
