import Transport
import Foundation
import XCTest

@testable import Redis

/// Pub/sub against a real redis-server: message and pmessage under RESP3 (push) and RESP2 (arrays),
/// unsubscribing, and PUBSUB NUMSUB.
final class RedisSubscriberTests: RedisTestCase {
    private func assertDelivery(_ version: RedisConfiguration.ProtocolVersion) async throws {
        let server = try self.startServer()
        let client = try self.makeClient(server.url())
        let messages = Recorder<RedisPubSubMessage>()
        let subscriber = try self.makeSubscriber(server.url(), { $0.protocolVersion = version }, messages: messages)
        subscriber.subscribe(["room:1", "room:2"])
        subscriber.psubscribe(["socket.io#/#*"])
        let ready = try await waitUntil {
            let numpat = try await client.send(["PUBSUB", "NUMPAT"])
            return try await self.subscriberCount(client, "room:2") == 1 && numpat == .integer(1)
        }
        XCTAssertTrue(ready)
        let binary: [UInt8] = [0, 1, 2, 13, 10, 255]
        client.publish("room:1", Array("hello".utf8))
        client.publish("socket.io#/#room#", binary)
        client.publish("elsewhere", Array("nobody listens".utf8))
        client.publish("room:2", [])
        let observed1 = await waitUntil { messages.count >= 3 }
        XCTAssertTrue(observed1)
        let received = messages.all
        XCTAssertEqual(received.map(\.channel), ["room:1", "socket.io#/#room#", "room:2"])
        XCTAssertEqual(received.map(\.pattern), [nil, "socket.io#/#*", nil])
        XCTAssertEqual(received.map(\.payload), [Array("hello".utf8), binary, []])
    }

    func testDeliversMessageAndPmessageOverRESP3() async throws {
        try await self.assertDelivery(.resp3IfAvailable)
    }

    func testDeliversMessageAndPmessageOverRESP2() async throws {
        try await self.assertDelivery(.resp2)
    }

    func testUnsubscribeAndPunsubscribeStopDelivery() async throws {
        let server = try self.startServer()
        let client = try self.makeClient(server.url())
        for version in [RedisConfiguration.ProtocolVersion.resp3IfAvailable, .resp2] {
            let messages = Recorder<RedisPubSubMessage>()
            let subscriber = try self.makeSubscriber(server.url(), { $0.protocolVersion = version }, messages: messages)
            subscriber.subscribe(["a", "b"])
            subscriber.psubscribe(["p*"])
            let observed2 = try await waitUntil { try await self.subscriberCount(client, "b") == 1 }
            XCTAssertTrue(observed2)
            let observed3 = try await self.subscriberCount(client, "a")
            XCTAssertEqual(observed3, 1)
            subscriber.unsubscribe(["a"])
            subscriber.punsubscribe(["p*"])
            let observed4 = try await waitUntil { try await self.subscriberCount(client, "a") == 0 }
            XCTAssertTrue(observed4)
            let observed5 = try await waitUntil { try await client.send(["PUBSUB", "NUMPAT"]) == .integer(0) }
            XCTAssertTrue(observed5)
            let observed6 = try await self.subscriberCount(client, "b")
            XCTAssertEqual(observed6, 1)
            // Published in this order on one connection, delivered in this order: once "b" arrives, "a" and
            // "pa" would have arrived before it.
            client.publish("a", [1])
            client.publish("pa", [2])
            client.publish("b", [3])
            let observed7 = await waitUntil { messages.count >= 1 }
            XCTAssertTrue(observed7)
            XCTAssertEqual(messages.all.map(\.channel), ["b"])
            // An empty list leaves every channel, as Redis's own UNSUBSCRIBE does.
            subscriber.unsubscribe([])
            let observed8 = try await waitUntil { try await self.subscriberCount(client, "b") == 0 }
            XCTAssertTrue(observed8)
            subscriber.close()
        }
    }

    func testNumsubCountsEverySubscriberAndCloseLeaves() async throws {
        let server = try self.startServer()
        let client = try self.makeClient(server.url())
        let messages = Recorder<RedisPubSubMessage>()
        let first = try self.makeSubscriber(server.url(), messages: messages)
        let second = try self.makeSubscriber(server.url(), { $0.protocolVersion = .resp2 }, messages: messages)
        first.subscribe(["socket.io-request#/#"])
        second.subscribe(["socket.io-request#/#"])
        let observed9 = try await waitUntil { try await self.subscriberCount(client, "socket.io-request#/#") == 2 }
        XCTAssertTrue(observed9)
        let reply = try await client.send(["PUBSUB", "NUMSUB", "socket.io-request#/#", "other"])
        XCTAssertEqual(reply, .array([.bulkString(Array("socket.io-request#/#".utf8)), .integer(2),
                                      .bulkString(Array("other".utf8)), .integer(0)]))
        second.close()
        let observed10 = try await waitUntil { try await self.subscriberCount(client, "socket.io-request#/#") == 1 }
        XCTAssertTrue(observed10)
    }

    func testSubscriptionsMadeBeforeConnectingAreSentOnConnect() async throws {
        let server = try self.startServer()
        let client = try self.makeClient(server.url())
        let messages = Recorder<RedisPubSubMessage>()
        var configuration = try RedisConfiguration(url: server.url())
        configuration.clientName = "early-subscriber"
        let subscriber = RedisSubscriber(configuration: configuration, loop: self.loop) { messages.append($0) }
        subscriber.subscribe(["early"])
        subscriber.subscribe(["early"])
        subscriber.connect()
        defer { subscriber.close() }
        let observed11 = try await waitUntil { try await self.subscriberCount(client, "early") == 1 }
        XCTAssertTrue(observed11)
        client.publish("early", [42])
        let observed12 = await waitUntil { messages.count == 1 }
        XCTAssertTrue(observed12)
        XCTAssertEqual(messages.all.first?.payload, [42])
    }
}
