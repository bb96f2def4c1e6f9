import Transport
import XCTest

/// The numeric host of a peer address, written by hand for IPv4 (getnameinfo for the others).
final class SocketAddressHostTests: XCTestCase {
    func testIPv4HostsAreDottedQuads() throws {
        for text in ["127.0.0.1", "0.0.0.0", "10.200.3.255", "255.255.255.255", "1.22.133.4", "192.168.100.10"] {
            XCTAssertEqual(try SocketAddress.resolve(host: text, port: 80).host, text)
        }
    }

    func testIPv6HostsStillComeFromTheSystem() throws {
        XCTAssertEqual(try SocketAddress.resolve(host: "::1", port: 80).host, "::1")
        XCTAssertEqual(try SocketAddress.resolve(host: "::ffff:10.1.2.3", port: 80).host, "::ffff:10.1.2.3")
    }
}
