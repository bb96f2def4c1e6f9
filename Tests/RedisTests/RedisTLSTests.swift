import Foundation
import Transport
import XCTest

@testable import Redis

/// rediss:// against redis-server's own TLS port (Debian builds it with TLS), with a CA made for the test.
final class RedisTLSTests: RedisTestCase {
    private func startTLSServer() throws -> (RedisServerProcess, TestCertificates, Int) {
        let tlsPort = try RedisServerProcess.freePort()
        let directory = NSTemporaryDirectory() + "redis-tls-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.addTeardownBlock { try? FileManager.default.removeItem(atPath: directory) }
        let certificates = try TestCertificates(in: directory)
        // The plain port stays open for the readiness PING; the client uses the TLS port only.
        let server = try self.startServer([
            "--tls-port", String(tlsPort), "--tls-cert-file", certificates.certificateFile,
            "--tls-key-file", certificates.keyFile, "--tls-ca-cert-file", certificates.caFile, "--tls-auth-clients", "no",
        ])
        return (server, certificates, tlsPort)
    }

    func testRedissVerifiesTheServerAgainstTheGivenCA() async throws {
        let (server, certificates, tlsPort) = try self.startTLSServer()
        let plain = try self.makeClient(server.url())
        for host in ["127.0.0.1", "localhost"] {
            let client = try self.makeClient("rediss://\(host):\(tlsPort)/4") { $0.tls.additionalCAFiles = [certificates.caFile] }
            let set = try await client.send(["SET", "over-tls", RedisArgument([0, 1, 2])])
            XCTAssertEqual(set, .simpleString("OK"))
            let info = try await client.send(["CLIENT", "INFO"])
            XCTAssertTrue(info.string?.contains(" db=4 ") == true, "\(info)")
            XCTAssertTrue(info.string?.contains("laddr=127.0.0.1:\(tlsPort)") == true, "went to the TLS port: \(info)")
        }
        _ = try await plain.send(["SELECT", "4"])
        let stored = try await plain.send(["GET", "over-tls"])
        XCTAssertEqual(stored, .bulkString([0, 1, 2]))

        let messages = Recorder<RedisPubSubMessage>()
        let subscriber = try self.makeSubscriber("rediss://127.0.0.1:\(tlsPort)", { $0.tls.additionalCAFiles = [certificates.caFile] },
                                                 messages: messages)
        subscriber.subscribe(["secure"])
        let subscribed = try await waitUntil { try await self.subscriberCount(plain, "secure") == 1 }
        XCTAssertTrue(subscribed)
        plain.publish("secure", [7])
        let delivered = await waitUntil { messages.count == 1 }
        XCTAssertTrue(delivered)
    }

    func testRedissRefusesAServerItCannotVerify() async throws {
        let (_, _, tlsPort) = try self.startTLSServer()
        let states = Recorder<RedisConnectionState>()
        let client = try self.makeClient("rediss://127.0.0.1:\(tlsPort)", { $0.commandTimeoutMillis = 1_000 }, states: states)
        let error = await self.failure(of: client, ["PING"])
        XCTAssertEqual(error as? RedisClientError, .commandTimeout)
        let reasons = states.all.compactMap { state -> String? in
            if case .disconnected(let reason) = state { return reason }
            return nil
        }
        XCTAssertFalse(reasons.isEmpty)
        XCTAssertTrue(reasons.allSatisfy { $0.contains("certificate verify failed") }, "\(reasons)")
    }
}
