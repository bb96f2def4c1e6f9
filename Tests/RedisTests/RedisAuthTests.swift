import Transport
import Foundation
import XCTest

@testable import Redis

/// Passwords and ACL users against a redis-server with `requirepass` and an ACL user: success, and Redis's
/// own NOAUTH / WRONGPASS errors, under RESP3 (HELLO 3 AUTH) and RESP2 (AUTH).
final class RedisAuthTests: RedisTestCase {
    private let versions: [RedisConfiguration.ProtocolVersion] = [.resp3IfAvailable, .resp2]

    private func startAuthServer() throws -> RedisServerProcess {
        try self.startServer(["--requirepass", "s3cret", "--user", "alice", "on", ">p@ss:w/rd", "~*", "&*", "+@all"])
    }

    func testPasswordAndACLUserAuthenticate() async throws {
        let server = try self.startAuthServer()
        for version in self.versions {
            let viaPassword = try self.makeClient(server.url(userInfo: ":s3cret")) { $0.protocolVersion = version }
            let observed1 = try await viaPassword.send(["PING"])
            XCTAssertEqual(observed1, .simpleString("PONG"))
            let observed2 = try await viaPassword.send(["ACL", "WHOAMI"]).string
            XCTAssertEqual(observed2, "default")
            let viaUser = try self.makeClient(server.url(userInfo: "alice:p%40ss%3Aw%2Frd", suffix: "/1")) {
                $0.protocolVersion = version
                $0.clientName = "alice-client"
            }
            let observed3 = try await viaUser.send(["ACL", "WHOAMI"]).string
            XCTAssertEqual(observed3, "alice")
            let observed4 = try await viaUser.send(["CLIENT", "GETNAME"]).string
            XCTAssertEqual(observed4, "alice-client")
            let info = try await viaUser.send(["CLIENT", "INFO"])
            XCTAssertTrue(info.string?.contains(" db=1 ") == true, "\(info)")
        }
    }

    func testWrongPasswordFailsCommandsWithWRONGPASS() async throws {
        let server = try self.startAuthServer()
        for version in self.versions {
            let states = Recorder<RedisConnectionState>()
            let client = try self.makeClient(server.url(userInfo: "alice:wrong"), { $0.protocolVersion = version }, states: states)
            let error = await self.failure(of: client, ["PING"])
            let redisError = try XCTUnwrap(error as? RedisError, "\(String(describing: error))")
            XCTAssertEqual(redisError.code, "WRONGPASS")
            XCTAssertEqual(redisError.message, "WRONGPASS invalid username-password pair or user is disabled.")
            XCTAssertTrue(states.all.contains { state in
                if case .disconnected(let reason) = state { return reason.contains("WRONGPASS") }
                return false
            }, "\(states.all)")
        }
    }

    func testMissingPasswordFailsCommandsWithNOAUTH() async throws {
        let server = try self.startAuthServer()
        for version in self.versions {
            let client = try self.makeClient(server.url()) { $0.protocolVersion = version }
            let error = await self.failure(of: client, ["GET", "x"])
            let redisError = try XCTUnwrap(error as? RedisError, "\(String(describing: error))")
            XCTAssertEqual(redisError.code, "NOAUTH")
            XCTAssertTrue(redisError.message.hasPrefix("NOAUTH "), redisError.message)
        }
    }

    func testServerWithoutHelloFallsBackToAUTHUnderRESP2() async throws {
        // With HELLO renamed away the server answers as Redis 5 does: "-ERR unknown command 'HELLO'".
        let server = try self.startServer(["--requirepass", "s3cret", "--rename-command", "HELLO", "\"\""])
        let client = try self.makeClient(server.url(userInfo: ":s3cret", suffix: "/2")) { $0.clientName = "fallback" }
        let info = try await client.send(["CLIENT", "INFO"])
        let text = try XCTUnwrap(info.string)
        XCTAssertTrue(text.contains("resp=2"), text)
        XCTAssertTrue(text.contains(" db=2 "), text)
        XCTAssertTrue(text.contains("name=fallback "), text)
        let wrong = try self.makeClient(server.url(userInfo: ":nope"))
        let error = await self.failure(of: wrong, ["PING"])
        XCTAssertEqual((error as? RedisError)?.code, "WRONGPASS")
    }
}
