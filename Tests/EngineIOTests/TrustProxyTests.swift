import Foundation
import XCTest

@testable import HTTPKit
@testable import Transport

/// `trustProxy`: client address and scheme from X-Forwarded-For / X-Forwarded-Proto (left-most entries, as
/// Express's `trust proxy = true`), over real sockets; without it those headers change nothing.
final class TrustProxyTests: XCTestCase {
    private var group: EventLoopGroup!
    private var server: HTTPServer!

    private func start(trustProxy: Bool) throws {
        self.group = try EventLoopGroup(loopCount: 1)
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.trustProxy = trustProxy
        self.server = try HTTPServer(configuration: configuration, group: self.group, handler: ClientViewHandler())
    }

    override func tearDown() {
        self.server?.stopAccepting()
        self.group?.shutdown()
        // XCTest keeps every test case until the process exits: let go of the server and its loops.
        (self.server, self.group) = (nil, nil)
        super.tearDown()
    }

    /// What the handler saw: `address scheme`.
    private func clientView(_ headers: [(String, String)]) throws -> String {
        let client = try TestHTTPClient(port: self.server.port)
        try client.send(method: "GET", target: "/", headers: headers)
        return try client.readResponse().text
    }

    func testTrustedProxyHeadersGiveTheLeftMostAddressAndScheme() throws {
        try self.start(trustProxy: true)
        XCTAssertEqual(try self.clientView([("X-Forwarded-For", "203.0.113.7, 10.0.0.2"), ("X-Forwarded-Proto", "https")]),
                       "203.0.113.7 https")
        XCTAssertEqual(try self.clientView([("X-Forwarded-For", " 2001:db8::1 "), ("X-Forwarded-Proto", "HTTPS, http")]),
                       "2001:db8::1 https")
        XCTAssertEqual(try self.clientView([("X-Forwarded-For", "198.51.100.1"), ("X-Forwarded-Proto", "http")]),
                       "198.51.100.1 http")
        XCTAssertEqual(try self.clientView([]), "127.0.0.1 http", "no headers: the peer, plain http")
    }

    func testTrustedProxyHeaderThatIsNotAnAddressFallsBackToThePeer() throws {
        try self.start(trustProxy: true)
        XCTAssertEqual(try self.clientView([("X-Forwarded-For", "<script>, 10.0.0.2")]), "127.0.0.1 http")
        XCTAssertEqual(try self.clientView([("X-Forwarded-For", "")]), "127.0.0.1 http")
    }

    func testWithoutTrustTheHeadersAreIgnored() throws {
        try self.start(trustProxy: false)
        XCTAssertEqual(try self.clientView([("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-Proto", "https")]),
                       "127.0.0.1 http")
    }

    func testSeveralHeaderLinesCountFromTheFirst() {
        var headers = HTTPHeaders()
        headers.add("X-Forwarded-For", "192.0.2.1")
        headers.add("X-Forwarded-For", "192.0.2.2")
        XCTAssertEqual(ForwardedHeaders.clientAddress(headers, peer: "peer"), "192.0.2.1")
        XCTAssertTrue(ForwardedHeaders.isSecure(HTTPHeaders(), fallback: true), "no header keeps the connection's own scheme")
    }

    func testFirstEntryDropsBlanksAroundTheLeftMostEntryOnly() {
        XCTAssertEqual(ForwardedHeaders.firstEntry(" \t192.0.2.1 \t, 10.0.0.2"), "192.0.2.1")
        XCTAssertEqual(ForwardedHeaders.firstEntry("a b"), "a b")
        XCTAssertEqual(ForwardedHeaders.firstEntry(", 192.0.2.1"), "")
        XCTAssertEqual(ForwardedHeaders.firstEntry("  "), "")
        XCTAssertEqual(ForwardedHeaders.firstEntry(""), "")
        func secure(_ value: String) -> Bool {
            var headers = HTTPHeaders()
            headers.add("X-Forwarded-Proto", value)
            return ForwardedHeaders.isSecure(headers, fallback: false)
        }
        XCTAssertEqual(["https", " HtTpS ,http", "http", "httpsx", "https2", "", "ht tps"].map(secure),
                       [true, true, false, false, false, false, false])
    }
}

/// Answers `<remoteAddress> <scheme>`.
private final class ClientViewHandler: HTTPRequestHandling {
    func handle(_ request: HTTPRequest, exchange: HTTPExchange) {
        exchange.respond(.text("\(request.remoteAddress) \(request.scheme)"))
    }
}
