import XCTest

@testable import Redis

/// URLs and reconnect delays.
final class RedisConfigurationTests: XCTestCase {
    func testParsesRedisURLs() throws {
        let plain = try RedisConfiguration(url: "redis://localhost")
        XCTAssertEqual(plain.endpoint, .tcp(host: "localhost", port: 6379))
        XCTAssertFalse(plain.useTLS)
        XCTAssertNil(plain.username)
        XCTAssertNil(plain.password)
        XCTAssertEqual(plain.database, 0)

        let full = try RedisConfiguration(url: "redis://alice:p%40ss%3Aw%2Frd@redis.example:6380/3")
        XCTAssertEqual(full.endpoint, .tcp(host: "redis.example", port: 6380))
        XCTAssertEqual(full.username, "alice")
        XCTAssertEqual(full.password, "p@ss:w/rd")
        XCTAssertEqual(full.database, 3)

        let passwordOnly = try RedisConfiguration(url: "redis://:secret@127.0.0.1:7000")
        XCTAssertNil(passwordOnly.username)
        XCTAssertEqual(passwordOnly.password, "secret")

        let ipv6 = try RedisConfiguration(url: "rediss://[::1]:6390/0")
        XCTAssertEqual(ipv6.endpoint, .tcp(host: "::1", port: 6390))
        XCTAssertTrue(ipv6.useTLS)

        XCTAssertEqual(try RedisConfiguration(url: "redis://h/?db=5").database, 5)
        XCTAssertEqual(try RedisConfiguration(url: "REDIS://h:1/").endpoint, .tcp(host: "h", port: 1))
    }

    func testParsesUnixURLs() throws {
        let socket = try RedisConfiguration(url: "unix:///run/redis/redis.sock?db=2")
        XCTAssertEqual(socket.endpoint, .unix(path: "/run/redis/redis.sock"))
        XCTAssertEqual(socket.database, 2)
        let withAuth = try RedisConfiguration(url: "unix://bob:pw@/tmp/r.sock")
        XCTAssertEqual(withAuth.endpoint, .unix(path: "/tmp/r.sock"))
        XCTAssertEqual(withAuth.username, "bob")
        XCTAssertEqual(withAuth.password, "pw")
    }

    func testRefusesBadURLs() {
        for url in ["localhost:6379", "http://h", "redis://h:0", "redis://h:70000", "redis://h:x", "redis://h/abc",
                    "redis://h/-1", "redis://u:%zz@h", "unix://", "unix://host/path?db=x", "redis://[::1"] {
            XCTAssertThrowsError(try RedisConfiguration(url: url), url) { error in
                guard case RedisClientError.invalidURL = error else { return XCTFail("\(url): \(error)") }
            }
        }
    }

    func testBackoffDoublesUpToTheMaximumWithJitter() {
        for failures in 0..<40 {
            let base = min(5_000, 100 << min(failures, 20))
            for _ in 0..<50 {
                let delay = ReconnectBackoff.delayMillis(failures: failures, min: 100, max: 5_000)
                XCTAssertGreaterThanOrEqual(delay, base / 2, "failures \(failures)")
                XCTAssertLessThanOrEqual(delay, base, "failures \(failures)")
            }
        }
    }
}
