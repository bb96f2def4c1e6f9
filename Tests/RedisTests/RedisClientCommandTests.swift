import Transport
import Foundation
import XCTest

@testable import Redis

/// Commands against a real redis-server: replies, errors, pipelining, RESP2 and RESP3.
final class RedisClientCommandTests: RedisTestCase {
    func testSetGetAndErrorRepliesUnderBothProtocols() async throws {
        let server = try self.startServer()
        for version in [RedisConfiguration.ProtocolVersion.resp3IfAvailable, .resp2] {
            let client = try self.makeClient(server.url()) { $0.protocolVersion = version }
            let set = try await client.send(["SET", "greeting", RedisArgument([104, 0, 255])])
            XCTAssertEqual(set, .simpleString("OK"))
            let get = try await client.send(["GET", "greeting"])
            XCTAssertEqual(get, .bulkString([104, 0, 255]))
            let missing = try await client.send(["GET", "no-such-key"])
            XCTAssertEqual(missing, .null)
            let error = await self.failure(of: client, ["INCR", "greeting"])
            XCTAssertEqual(error as? RedisError, RedisError(message: "ERR value is not an integer or out of range"))
            XCTAssertEqual((error as? RedisError)?.code, "ERR")
            let unknown = await self.failure(of: client, ["NOSUCHCOMMAND", "x"])
            XCTAssertEqual((unknown as? RedisError)?.code, "ERR")
            XCTAssertTrue((unknown as? RedisError)?.message.contains("unknown command") == true)
        }
    }

    func testRESP3RepliesWhenHelloIsAcceptedAndRESP2Otherwise() async throws {
        let server = try self.startServer()
        let resp3 = try self.makeClient(server.url())
        _ = try await resp3.send(["HSET", "h", "field", "value"])
        let map = try await resp3.send(["HGETALL", "h"])
        XCTAssertEqual(map, .map([(.bulkString(Array("field".utf8)), .bulkString(Array("value".utf8)))]))
        let double = try await resp3.send(["INCRBYFLOAT", "f", "1.5"])
        XCTAssertEqual(double.string, "1.5")
        let info = try await resp3.send(["CLIENT", "INFO"])
        XCTAssertTrue(info.string?.contains("resp=3") == true, "\(info)")

        let resp2 = try self.makeClient(server.url()) { $0.protocolVersion = .resp2 }
        let array = try await resp2.send(["HGETALL", "h"])
        XCTAssertEqual(array, .array([.bulkString(Array("field".utf8)), .bulkString(Array("value".utf8))]))
        let info2 = try await resp2.send(["CLIENT", "INFO"])
        XCTAssertTrue(info2.string?.contains("resp=2") == true, "\(info2)")
    }

    func testPipelinesTenThousandCommandsWithRepliesInOrder() async throws {
        let server = try self.startServer()
        let client = try self.makeClient(server.url())
        let replies = Recorder<Int64>()
        let done = expectation(description: "all replies")
        done.expectedFulfillmentCount = 10_000
        // Sent from the loop in one go: they go out pipelined, in as few writes as the buffer allows.
        self.loop.execute {
            for _ in 0..<10_000 {
                client.send(["INCR", "counter"]) { result in
                    if case .success(.integer(let value)) = result { replies.append(value) }
                    done.fulfill()
                }
            }
        }
        await fulfillment(of: [done], timeout: 30)
        XCTAssertEqual(replies.all, Array(1...10_000))
    }

    func testClientNameIsSetUnderBothProtocols() async throws {
        let server = try self.startServer()
        for version in [RedisConfiguration.ProtocolVersion.resp3IfAvailable, .resp2] {
            let client = try self.makeClient(server.url()) {
                $0.clientName = "swift-redis-test"
                $0.protocolVersion = version
            }
            let name = try await client.send(["CLIENT", "GETNAME"])
            XCTAssertEqual(name.string, "swift-redis-test")
        }
    }

    func testSelectsTheDatabaseOfTheURL() async throws {
        let server = try self.startServer()
        let db3 = try self.makeClient(server.url(suffix: "/3"))
        _ = try await db3.send(["SET", "where", "three"])
        let info = try await db3.send(["CLIENT", "INFO"])
        XCTAssertTrue(info.string?.contains(" db=3 ") == true, "\(info)")
        let db0 = try self.makeClient(server.url())
        let inDefault = try await db0.send(["GET", "where"])
        XCTAssertEqual(inDefault, .null)
        let viaQuery = try self.makeClient(server.url(suffix: "?db=3")) { $0.protocolVersion = .resp2 }
        let inThree = try await viaQuery.send(["GET", "where"])
        XCTAssertEqual(inThree.string, "three")
    }

    func testUnixSocketWithDatabase() async throws {
        let server = try self.startServer(unixSocket: true)
        let path = try XCTUnwrap(server.socketPath)
        let client = try self.makeClient("unix://\(path)?db=2")
        let pong = try await client.send(["PING"])
        XCTAssertEqual(pong, .simpleString("PONG"))
        let info = try await client.send(["CLIENT", "INFO"])
        XCTAssertTrue(info.string?.contains(" db=2 ") == true, "\(info)")
        XCTAssertTrue(info.string?.contains("laddr=\(path)") == true || info.string?.contains("addr=/") == true
                      || info.string?.contains("flags=U") == true, "a unix-socket client: \(info)")
    }

    func testCloseFailsLaterCommandsAndReportsClosed() async throws {
        let server = try self.startServer()
        let states = Recorder<RedisConnectionState>()
        let client = try self.makeClient(server.url(), states: states)
        _ = try await client.send(["PING"])
        client.close()
        let error = await self.failure(of: client, ["PING"])
        XCTAssertEqual(error as? RedisClientError, .closed)
        XCTAssertEqual(states.all, [.connecting, .connected, .closed])
    }

    func testPublishReachesAsManySubscribersAsListen() async throws {
        let server = try self.startServer()
        let client = try self.makeClient(server.url())
        let messages = Recorder<RedisPubSubMessage>()
        let subscriber = try self.makeSubscriber(server.url(), messages: messages)
        subscriber.subscribe(["news"])
        let subscribed = try await waitUntil { try await self.subscriberCount(client, "news") == 1 }
        XCTAssertTrue(subscribed)
        let receivers = try await withCheckedThrowingContinuation { continuation in
            client.publish("news", [1, 2, 3]) { continuation.resume(with: $0) }
        }
        XCTAssertEqual(receivers, .integer(1))
    }

    func testAnEmptyCommandFailsWithoutDisturbingTheOthers() async throws {
        let server = try self.startServer()
        let client = try self.makeClient(server.url())
        let error = await self.failure(of: client, [])
        XCTAssertEqual(error as? RedisClientError, .protocolError("a command needs at least one argument"))
        let echo = try await client.send(["ECHO", "still in step"])
        XCTAssertEqual(echo.string, "still in step")
    }

    func testLargeRepliesArriveWholeOverManyReads() async throws {
        let server = try self.startServer()
        let client = try self.makeClient(server.url()) { $0.commandTimeoutMillis = 30_000 }
        // 4 MB in one bulk string, and 100,000 small elements in one array: both span hundreds of reads.
        let big = (0..<(4 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        _ = try await client.send(["SET", "big", RedisArgument(big)])
        let value = try await client.send(["GET", "big"])
        XCTAssertEqual(value.bytes?.count, big.count)
        XCTAssertTrue(value.bytes == big)
        var push: [RedisArgument] = ["RPUSH", "list"]
        for index in 0..<100_000 { push.append(RedisArgument(index)) }
        _ = try await client.send(push)
        let list = try await client.send(["LRANGE", "list", "0", "-1"])
        let items = try XCTUnwrap(list.elements)
        XCTAssertEqual(items.count, 100_000)
        XCTAssertEqual(items.first?.string, "0")
        XCTAssertEqual(items.last?.string, "99999")
        let pong = try await client.send(["PING"])
        XCTAssertEqual(pong, .simpleString("PONG"))
    }
}
