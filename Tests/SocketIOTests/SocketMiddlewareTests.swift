import EngineIO
import Foundation
import SocketIO
import SocketIOTestSupport
import XCTest

/// Per-socket middlewares (`socket.use`), the socket's `error` event, and `serverSideEmit` on a single server.
final class SocketMiddlewareTests: XCTestCase {
    private var server: InProcessSocketIOServer!
    private let recorder = TestRecorder()

    private struct Refused: Error, CustomStringConvertible {
        let description: String
    }

    override func setUpWithError() throws {
        let recorder = self.recorder
        self.server = try TestSocketIOServer.make { io in
            io.on(.connection) { socket in
                socket.use { packet, next in
                    recorder.record("mw1:\(packet.name):\(packet.args)")
                    if packet.name == "forbidden" { return next(Refused(description: "unauthorized event")) }
                    next()
                }
                socket.use { packet, next in
                    recorder.record("mw2:\(packet.name)")
                    // Decide later, from another thread.
                    Task {
                        try? await Task.sleep(nanoseconds: 5_000_000)
                        next(packet.name == "late-refusal" ? Refused(description: "refused later") : nil)
                    }
                }
                socket.on(.error) { error in
                    recorder.record("error:\(error)")
                    socket.emit("refused", .string("\(error)"))
                }
                socket.onEvent("echo") { event in
                    recorder.record("handler:echo")
                    event.ack?.send(event.arguments)
                }
                socket.on("forbidden") { _, _ in recorder.record("handler:forbidden") }
                socket.on("late-refusal") { _, _ in recorder.record("handler:late-refusal") }
            }
            io.of("/plain").on(.connection) { socket in
                socket.on(.error) { error in recorder.record("plain-error:\(error)") }
                socket.onEvent("echo") { event in event.ack?.send(event.arguments) }
            }
        }
    }

    override func tearDown() {
        self.server.shutdown()
        self.server = nil
    }

    func testMiddlewaresRunInOrderThenTheHandlerAnswers() throws {
        let client = try SIOTestClient(port: self.server.port)
        try client.connectNamespace()
        try client.send(#"421["echo",1,"two"]"#)
        XCTAssertEqual(try client.nextText(), #"431[1,"two"]"#)
        XCTAssertEqual(self.recorder.all, [#"mw1:echo:[1, "two"]"#, "mw2:echo", "handler:echo"])
    }

    func testRefusedPacketSkipsHandlersAndEmitsTheErrorEvent() throws {
        let client = try SIOTestClient(port: self.server.port)
        try client.connectNamespace()
        try client.send(#"42["forbidden","x"]"#)
        XCTAssertEqual(try client.nextText(), #"42["refused","unauthorized event"]"#)
        XCTAssertEqual(self.recorder.all, [#"mw1:forbidden:["x"]"#, "error:unauthorized event"],
                       "the second middleware and the handler never see the refused packet")
        // The socket stays connected and later packets go through.
        try client.send(#"422["echo","after"]"#)
        XCTAssertEqual(try client.nextText(), #"432["after"]"#)
    }

    func testRefusalFromAnotherThreadAfterTheFirstMiddlewarePassed() throws {
        let client = try SIOTestClient(port: self.server.port)
        try client.connectNamespace()
        try client.send(#"42["late-refusal"]"#)
        XCTAssertEqual(try client.nextText(), #"42["refused","refused later"]"#)
        XCTAssertFalse(self.recorder.all.contains("handler:late-refusal"))
        XCTAssertEqual(self.recorder.all, ["mw1:late-refusal:[]", "mw2:late-refusal", "error:refused later"])
    }

    func testSocketWithoutMiddlewaresKeepsTheDirectPath() throws {
        let client = try SIOTestClient(port: self.server.port)
        try client.connectNamespace("/plain")
        try client.send(#"42/plain,7["echo",{"a":1}]"#)
        XCTAssertEqual(try client.nextText(), #"43/plain,7[{"a":1}]"#)
        XCTAssertTrue(self.recorder.all.isEmpty)
    }

    func testUndecodablePacketEmitsTheErrorEventThenCloses() throws {
        let client = try SIOTestClient(port: self.server.port)
        try client.connectNamespace("/plain")
        try client.send(#"42/plain,["echo",{"a":]"#)
        XCTAssertTrue(self.recorder.wait { $0.contains { $0.hasPrefix("plain-error:invalid packet") } }, "\(self.recorder.all)")
        XCTAssertTrue(client.waitForClose(timeout: 3))
    }

    func testServerSideEmitOnASingleServerReachesNoHandlerAndAcksWithNoResponse() throws {
        let recorder = self.recorder
        self.server.io.onServerSideEvent("ping") { args, _ in recorder.record("server-side:\(args)") }
        self.server.io.serverSideEmit("ping", ["x"])
        let answered = expectation(description: "ack")
        let start = Date()
        self.server.io.serverSideEmitWithAck("ping", ["y"], timeoutMillis: 5_000) { error, responses in
            XCTAssertNil(error)
            XCTAssertEqual(responses, [])
            answered.fulfill()
        }
        wait(for: [answered], timeout: 3)
        XCTAssertLessThan(Date().timeIntervalSince(start), 1, "no other server to wait for")
        XCTAssertTrue(recorder.all.isEmpty, "a server does not receive its own server-side events")
    }
}
