import EngineIO
import Foundation
import SocketIO
import SocketIOTestSupport
import XCTest

/// The Socket.IO part of the official socket.io-protocol test suite (test-suite/test-suite.js, EIO=4),
/// one test per behaviour, against the same handlers and settings sio-echo uses.
final class ServerProtocolTests: XCTestCase {
    private var server: InProcessSocketIOServer!

    override func setUpWithError() throws {
        self.server = try TestSocketIOServer.make(engineOptions: { options in
            options.pingInterval = 300
            options.pingTimeout = 200
        }, options: { options in
            options.connectTimeout = 1000
        }, setup: TestSuiteApp.install)
    }

    override func tearDown() {
        self.server.shutdown()
        self.server = nil
    }

    /// A client connected to `/` with the auth packet read.
    private func connectedClient() throws -> SIOTestClient {
        let client = try SIOTestClient(port: self.server.port)
        try client.connectNamespace("/")
        XCTAssertEqual(try client.nextText(), #"42["auth",{}]"#)
        return client
    }

    private func handshakeKeys(_ text: String, prefix: String) -> [String]? {
        guard text.hasPrefix(prefix), let object = SIOTestClient.json(String(text.dropFirst(prefix.count))) as? [String: Any] else {
            return nil
        }
        return object.keys.sorted()
    }

    // MARK: connect

    func testConnectToMainNamespaceRepliesWithSidThenAuth() throws {
        let client = try SIOTestClient(port: self.server.port)
        try client.send("40")
        let reply = try client.nextText()
        XCTAssertEqual(self.handshakeKeys(reply, prefix: "40"), ["sid"])
        XCTAssertEqual(try client.nextText(), #"42["auth",{}]"#)
    }

    func testConnectToMainNamespaceWithPayloadEchoesAuth() throws {
        let client = try SIOTestClient(port: self.server.port)
        try client.send(#"40{"token":"123"}"#)
        XCTAssertEqual(self.handshakeKeys(try client.nextText(), prefix: "40"), ["sid"])
        XCTAssertEqual(try client.nextText(), #"42["auth",{"token":"123"}]"#)
    }

    func testConnectToCustomNamespace() throws {
        let client = try SIOTestClient(port: self.server.port)
        try client.send("40/custom,")
        XCTAssertEqual(self.handshakeKeys(try client.nextText(), prefix: "40/custom,"), ["sid"])
        XCTAssertEqual(try client.nextText(), #"42/custom,["auth",{}]"#)
    }

    func testConnectToCustomNamespaceWithPayload() throws {
        let client = try SIOTestClient(port: self.server.port)
        try client.send(#"40/custom,{"token":"abc"}"#)
        XCTAssertEqual(self.handshakeKeys(try client.nextText(), prefix: "40/custom,"), ["sid"])
        XCTAssertEqual(try client.nextText(), #"42/custom,["auth",{"token":"abc"}]"#)
    }

    func testUnknownNamespaceIsRefused() throws {
        let client = try SIOTestClient(port: self.server.port)
        try client.send("40/random")
        XCTAssertEqual(try client.nextText(), #"44/random,{"message":"Invalid namespace"}"#)
    }

    func testInvalidHandshakeClosesConnection() throws {
        let client = try SIOTestClient(port: self.server.port)
        try client.send("4abc")
        XCTAssertTrue(client.waitForClose())
    }

    func testNoHandshakeClosesConnectionAfterConnectTimeout() throws {
        let client = try SIOTestClient(port: self.server.port)
        let started = Date()
        XCTAssertTrue(client.waitForClose(timeout: 3))
        XCTAssertGreaterThan(Date().timeIntervalSince(started), 0.8)
    }

    func testSocketIDDiffersFromEngineSessionID() throws {
        let client = try SIOTestClient(port: self.server.port)
        let engineSID = (SIOTestClient.json(client.openPacket) as? [String: Any])?["sid"] as? String
        let sid = try client.connectNamespace("/")
        XCTAssertNotNil(engineSID)
        XCTAssertNotEqual(sid, engineSID)
    }

    // MARK: disconnect

    func testClientDisconnectFromMainNamespaceKeepsConnectionOpen() throws {
        let client = try self.connectedClient()
        client.answerPings = false
        try client.send("41")
        XCTAssertEqual(try client.nextText(timeout: 2), "2")
    }

    func testDisconnectFromCustomNamespaceKeepsMainNamespace() throws {
        let client = try self.connectedClient()
        try client.send("40/custom")
        _ = try client.nextText()  // CONNECT reply
        _ = try client.nextText()  // auth
        try client.send("41/custom")
        try client.send(#"42["message","message to main namespace",1,2]"#)
        XCTAssertEqual(try client.nextText(), #"42["message-back","message to main namespace",1,2]"#)
    }

    // MARK: acknowledgements (server asks the client)

    func testServerEmitsWithAckAndGetsAnswer() throws {
        let client = try self.connectedClient()
        try client.send(#"42["emit-with-ack",1,"2",{"3":[true]}]"#)
        XCTAssertEqual(try client.nextText(), #"421["emit-with-ack",1,"2",{"3":[true]}]"#)
        try client.send(#"431[1,"2",{"3":[true]}]"#)
        XCTAssertEqual(try client.nextText(), #"42["emit-with-ack",1,"2",{"3":[true]}]"#)
    }

    func testServerEmitsBinaryWithAckAndGetsBinaryAnswer() throws {
        let client = try self.connectedClient()
        let data = #"{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},"test""#
        try client.send(#"452-["emit-with-ack","# + data + "]")
        try client.send(binary: [1, 2, 3])
        try client.send(binary: [4, 5, 6])
        XCTAssertEqual(try client.nextText(), #"452-1["emit-with-ack","# + data + "]")
        XCTAssertEqual(try client.nextBinary(), [1, 2, 3])
        XCTAssertEqual(try client.nextBinary(), [4, 5, 6])
        try client.send("462-1[" + data + "]")
        try client.send(binary: [1, 2, 3])
        try client.send(binary: [4, 5, 6])
        XCTAssertEqual(try client.nextText(), #"452-["emit-with-ack","# + data + "]")
        XCTAssertEqual(try client.nextBinary(), [1, 2, 3])
        XCTAssertEqual(try client.nextBinary(), [4, 5, 6])
    }

    // MARK: message

    func testPlainTextMessageIsEchoed() throws {
        let client = try self.connectedClient()
        try client.send(#"42["message",1,"2",{"3":[true]}]"#)
        XCTAssertEqual(try client.nextText(), #"42["message-back",1,"2",{"3":[true]}]"#)
    }

    func testBinaryMessageIsEchoedWithAttachments() throws {
        let client = try self.connectedClient()
        try client.send(#"452-["message",1,{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#)
        try client.send(binary: [1, 2, 3])
        try client.send(binary: [4, 5, 6])
        XCTAssertEqual(try client.nextText(), #"452-["message-back",1,{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#)
        XCTAssertEqual(try client.nextBinary(), [1, 2, 3])
        XCTAssertEqual(try client.nextBinary(), [4, 5, 6])
    }

    func testPlainTextMessageWithAckIsAcknowledged() throws {
        let client = try self.connectedClient()
        try client.send(#"42456["message-with-ack",1,"2",{"3":[false]}]"#)
        XCTAssertEqual(try client.nextText(), #"43456[1,"2",{"3":[false]}]"#)
    }

    func testBinaryMessageWithAckIsAcknowledgedWithAttachments() throws {
        let client = try self.connectedClient()
        try client.send(#"452-789["message-with-ack",1,{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#)
        try client.send(binary: [1, 2, 3])
        try client.send(binary: [4, 5, 6])
        XCTAssertEqual(try client.nextText(), #"462-789[1,{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#)
        XCTAssertEqual(try client.nextBinary(), [1, 2, 3])
        XCTAssertEqual(try client.nextBinary(), [4, 5, 6])
    }

    func testUnknownPacketTypeClosesConnection() throws {
        let client = try self.connectedClient()
        try client.send("4abc")
        XCTAssertTrue(client.waitForClose())
    }

    func testInvalidPayloadFormatClosesConnection() throws {
        let client = try self.connectedClient()
        try client.send("42{}")
        XCTAssertTrue(client.waitForClose())
    }

    func testInvalidAckIDClosesConnection() throws {
        let client = try self.connectedClient()
        try client.send(#"42abc["message-with-ack",1,"2",{"3":[false]}]"#)
        XCTAssertTrue(client.waitForClose())
    }

    func testRelayedArgumentsKeepTheirExactText() throws {
        let client = try self.connectedClient()
        try client.send(#"42["message",1.50,{"b":1,"a":2},"\u00e9"]"#)
        XCTAssertEqual(try client.nextText(), #"42["message-back",1.50,{"b":1,"a":2},"\u00e9"]"#)
    }
}
