import Foundation
import Glibc
import XCTest

@testable import HTTPKit
@testable import Transport

/// `ConnectionLimits` on a real HTTP server: connections over a limit are closed before they are read, a
/// slot comes back when a connection closes, loopback is left out of the per-address limit unless asked,
/// and a connection that never sends its request head is closed at the header timeout.
final class ConnectionLimitTests: XCTestCase {
    private var group: EventLoopGroup!
    private var server: HTTPServer!

    private func start(_ limits: ConnectionLimits, headerMillis: Int = 30_000) throws {
        self.group = try EventLoopGroup(loopCount: 2)
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0, headerTimeoutMillis: headerMillis)
        configuration.connectionLimits = limits
        self.server = try HTTPServer(configuration: configuration, group: self.group, handler: OKHandler())
    }

    override func tearDown() {
        self.server?.stopAccepting()
        self.group?.shutdown()
        // XCTest keeps every test case until the process exits: let go of the server and its loops.
        (self.server, self.group) = (nil, nil)
        super.tearDown()
    }

    /// A client whose keep-alive request was answered: it holds its connection open.
    private func servedClient() throws -> TestHTTPClient {
        let client = try TestHTTPClient(port: self.server.port)
        try client.send(method: "GET", target: "/")
        XCTAssertEqual(try client.readResponse().status, 200)
        return client
    }

    /// True when the server closed the connection without answering a request sent on it.
    private func isRefused() throws -> Bool {
        let client = try TestHTTPClient(port: self.server.port)
        try? client.send(method: "GET", target: "/")
        return client.waitForClose(timeout: 5) && client.takeBufferedBytes().isEmpty
    }

    func testConnectionsOverTheProcessLimitAreClosedUnreadAndTheSlotComesBack() throws {
        try self.start(ConnectionLimits(maxConnections: 3))
        var clients = try (0..<3).map { _ in try self.servedClient() }
        XCTAssertTrue(try self.isRefused(), "a fourth connection must be refused")
        XCTAssertTrue(TestDeadline.wait(timeout: 5) { self.server.admission.refusedConnections == 1 })
        clients.removeLast().socket.close()
        XCTAssertTrue(TestDeadline.wait(timeout: 5) { self.server.admission.openConnections == 2 })
        clients.append(try self.servedClient())
        XCTAssertEqual(self.server.admission.openConnections, 3)
    }

    func testPerAddressLimitAppliesToLoopbackWhenNotExempt() throws {
        try self.start(ConnectionLimits(maxConnectionsPerAddress: 2, exemptLoopback: false))
        let clients = try (0..<2).map { _ in try self.servedClient() }
        XCTAssertTrue(try self.isRefused(), "a third connection from 127.0.0.1 must be refused")
        clients[0].socket.close()
        XCTAssertTrue(TestDeadline.wait(timeout: 5) { self.server.admission.openConnections == 1 })
        _ = try self.servedClient()
    }

    func testLoopbackIsExemptFromThePerAddressLimitByDefault() throws {
        try self.start(ConnectionLimits(maxConnectionsPerAddress: 1))
        let clients = try (0..<4).map { _ in try self.servedClient() }
        XCTAssertEqual(clients.count, 4)
        XCTAssertEqual(self.server.admission.refusedConnections, 0)
    }

    func testConnectionThatNeverSendsItsHeadIsClosedAtTheHeaderTimeout() throws {
        try self.start(ConnectionLimits(maxConnections: 10), headerMillis: 300)
        let silent = try TestHTTPClient(port: self.server.port)
        let opened = Date()
        XCTAssertEqual(try silent.readResponse(timeout: 5).status, 408)
        XCTAssertTrue(silent.waitForClose(timeout: 5))
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(opened), 0.29, "closed before the header timeout")
        XCTAssertTrue(TestDeadline.wait(timeout: 5) { self.server.admission.openConnections == 0 })
    }

    func testAddressKeysGroupIPv4MappedAndIPv6Prefixes() throws {
        func key(_ host: String) throws -> AddressKey? { AddressKey(try SocketAddress.resolve(host: host, port: 1)) }
        XCTAssertEqual(try key("10.1.2.3"), try key("::ffff:10.1.2.3"))
        XCTAssertNotEqual(try key("10.1.2.3"), try key("10.1.2.4"))
        XCTAssertEqual(try key("2001:db8:1:2::1"), try key("2001:db8:1:2:ffff::9"), "one /64 is one host")
        XCTAssertNotEqual(try key("2001:db8:1:2::1"), try key("2001:db8:1:3::1"))
        XCTAssertEqual(try key("127.0.0.1")?.isLoopback, true)
        XCTAssertEqual(try key("127.5.6.7")?.isLoopback, true)
        XCTAssertEqual(try key("::1")?.isLoopback, true)
        XCTAssertEqual(try key("::ffff:127.0.0.1")?.isLoopback, true)
        XCTAssertEqual(try key("10.0.0.1")?.isLoopback, false)
        XCTAssertEqual(try key("2001:db8::1")?.isLoopback, false)
    }
}

/// Answers every request with 200 "ok".
private final class OKHandler: HTTPRequestHandling {
    func handle(_ request: HTTPRequest, exchange: HTTPExchange) {
        exchange.respond(.text("ok"))
    }
}
