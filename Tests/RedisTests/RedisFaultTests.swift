import Transport
import Foundation
import Glibc
import XCTest

@testable import Redis

/// A slow, absent, restarting or silent Redis: commands time out or queue as documented, the client
/// reconnects and subscribes again, and the event loop stays free throughout.
final class RedisFaultTests: RedisTestCase {
    private func disconnects(_ states: Recorder<RedisConnectionState>) -> [String] {
        states.all.compactMap { state in
            if case .disconnected(let reason) = state { return reason }
            return nil
        }
    }

    /// The loop answers a task within `millis` (nothing blocks it).
    private func assertLoopResponsive(within millis: Double = 200, file: StaticString = #filePath, line: UInt = #line) async {
        let start = Date()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            self.loop.execute { continuation.resume() }
        }
        XCTAssertLessThan(Date().timeIntervalSince(start) * 1000, millis, "the event loop was blocked", file: file, line: line)
    }

    func testTimedOutCommandFailsAndItsLateReplyIsDropped() async throws {
        let server = try self.startServer()
        let other = try self.makeClient(server.url())
        let client = try self.makeClient(server.url()) { $0.commandTimeoutMillis = 300 }
        _ = try await client.send(["SET", "k", "value"])
        // CLIENT PAUSE holds every client's commands: the PING's reply comes only after 1.5 s.
        _ = try await other.send(["CLIENT", "PAUSE", "1500", "ALL"])
        let start = Date()
        let error = await self.failure(of: client, ["PING"])
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(error as? RedisClientError, .commandTimeout)
        XCTAssertGreaterThanOrEqual(elapsed, 0.25)
        XCTAssertLessThan(elapsed, 1.4)
        await self.assertLoopResponsive()
        // The next command's reply is its own, not the PING's late PONG (which was read and dropped). It is
        // sent after the pause ends, so it does not time out itself.
        let observed1 = try await waitUntil { try await other.send(["CLIENT", "INFO"]).string?.contains("flags=N") == true }
        XCTAssertTrue(observed1)
        var value: RESPValue = .null
        let reachable = await waitUntil(seconds: 5) {
            guard let reply = try? await client.send(["GET", "k"]) else { return false }
            value = reply
            return true
        }
        XCTAssertTrue(reachable)
        XCTAssertEqual(value.string, "value")
    }

    func testServerSilentForTwoTimeoutsIsDroppedAndReconnected() async throws {
        let server = try self.startServer()
        let other = try self.makeClient(server.url())
        let states = Recorder<RedisConnectionState>()
        let client = try self.makeClient(server.url(), {
            $0.commandTimeoutMillis = 300
            $0.reconnectMaxDelayMillis = 200
        }, states: states)
        _ = try await client.send(["PING"])
        _ = try await other.send(["CLIENT", "PAUSE", "2000", "ALL"])
        let error = await self.failure(of: client, ["PING"])
        XCTAssertEqual(error as? RedisClientError, .commandTimeout)
        let dropped = await waitUntil(seconds: 5) { self.disconnects(states).contains("no reply for 600 ms") }
        XCTAssertTrue(dropped, "\(states.all)")
        // Once the pause ends the client is back by itself.
        let back = await waitUntil(seconds: 10) { (try? await client.send(["PING"])) == .simpleString("PONG") }
        XCTAssertTrue(back)
    }

    func testAbsentRedisQueuesBoundedThenServesWhenItAppears() async throws {
        let server = try self.preparedServer()
        let states = Recorder<RedisConnectionState>()
        let client = try self.makeClient(server.url(), {
            $0.maxQueuedCommands = 3
            $0.commandTimeoutMillis = 20_000
            $0.reconnectMaxDelayMillis = 300
        }, states: states)
        let replies = Recorder<Result<RESPValue, RedisClientError>>()
        for index in 1...4 {
            client.send(["ECHO", RedisArgument(index)]) { result in
                replies.append(result.mapError { $0 as? RedisClientError ?? .protocolError("\($0)") })
            }
        }
        // The fourth does not fit: it fails at once, the others wait.
        let observed2 = await waitUntil { replies.count == 1 }
        XCTAssertTrue(observed2)
        XCTAssertEqual(replies.all.first.flatMap { try? $0.get() }, nil)
        if case .failure(let error)? = replies.all.first { XCTAssertEqual(error, .queueFull) }
        // Retries go on (refused each time) without blocking the loop.
        let observed3 = await waitUntil { self.disconnects(states).count >= 3 }
        XCTAssertTrue(observed3, "\(states.all)")
        XCTAssertTrue(self.disconnects(states).allSatisfy { $0.contains("refused") }, "\(self.disconnects(states))")
        await self.assertLoopResponsive()
        try server.start()
        let observed4 = await waitUntil { replies.count == 4 }
        XCTAssertTrue(observed4)
        let echoed = replies.all.dropFirst().map { try? $0.get().string }
        XCTAssertEqual(echoed, ["1", "2", "3"])
        XCTAssertEqual(states.all.last, .connected)
    }

    func testQueuedCommandsFailAtTheirTimeout() async throws {
        let server = try self.preparedServer()
        let client = try self.makeClient(server.url()) { $0.commandTimeoutMillis = 200 }
        let start = Date()
        let error = await self.failure(of: client, ["PING"])
        XCTAssertEqual(error as? RedisClientError, .commandTimeout)
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
    }

    func testRestartedRedisFailsInFlightCommandsThenReconnectsAndResubscribes() async throws {
        let server = try self.startServer()
        let configure: (inout RedisConfiguration) -> Void = { $0.reconnectMaxDelayMillis = 500 }
        let clientStates = Recorder<RedisConnectionState>()
        let client = try self.makeClient(server.url(), configure, states: clientStates)
        let blocked = try self.makeClient(server.url()) { $0.commandTimeoutMillis = 0 }
        let messages = Recorder<RedisPubSubMessage>()
        let subscriberStates = Recorder<RedisConnectionState>()
        let subscriber = try self.makeSubscriber(server.url(), configure, messages: messages, states: subscriberStates)
        subscriber.subscribe(["events"])
        subscriber.psubscribe(["ev*"])
        let observed5 = try await waitUntil { try await self.subscriberCount(client, "events") == 1 }
        XCTAssertTrue(observed5)
        client.publish("events", [1])
        let observed6 = await waitUntil { messages.count == 2 }
        XCTAssertTrue(observed6)

        // A command in flight when Redis dies fails with connectionClosed; it is not sent again.
        let inFlight = Recorder<Result<RESPValue, any Error>>()
        blocked.send(["BLPOP", "never-filled", "0"]) { inFlight.append($0) }
        let observed7 = try await waitUntil { try await client.send(["CLIENT", "LIST"]).string?.contains("cmd=blpop") == true }
        XCTAssertTrue(observed7)
        server.kill()
        let observed8 = await waitUntil { inFlight.count == 1 }
        XCTAssertTrue(observed8)
        if case .failure(let error)? = inFlight.all.first {
            XCTAssertEqual(error as? RedisClientError, .connectionClosed)
        } else {
            XCTFail("\(inFlight.all)")
        }
        let observed9 = await waitUntil { self.disconnects(clientStates).count >= 1 && self.disconnects(subscriberStates).count >= 1 }
        XCTAssertTrue(observed9)
        await self.assertLoopResponsive()

        // During the outage commands wait in the queue; they run once Redis is back.
        let queued = Recorder<Result<RESPValue, any Error>>()
        client.send(["SET", "during-outage", "yes"]) { queued.append($0) }
        try server.start()
        let observed10 = await waitUntil { queued.count == 1 }
        XCTAssertTrue(observed10)
        XCTAssertEqual(try queued.all.first?.get(), .simpleString("OK"))

        // The subscriber subscribed again by itself: publish until a message arrives (its resubscription
        // races with the first publishes).
        let before = messages.count
        let delivered = await waitUntil(seconds: 10) {
            client.publish("events", [2])
            return messages.all.dropFirst(before).contains { $0.channel == "events" && $0.pattern == nil && $0.payload == [2] }
        }
        XCTAssertTrue(delivered)
        XCTAssertTrue(messages.all.dropFirst(before).contains { $0.pattern == "ev*" && $0.payload == [2] })
        let observed11 = try await self.subscriberCount(client, "events")
        XCTAssertEqual(observed11, 1)
        XCTAssertEqual(subscriberStates.all.last, .connected)
    }

    func testUnansweredHandshakeEndsAtTheConnectTimeout() async throws {
        // A socket that listens but never accepts: the kernel completes the TCP handshake, nobody answers HELLO.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, sa, &length) == 0
            }
        }
        XCTAssertTrue(listening)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let states = Recorder<RedisConnectionState>()
        let client = try self.makeClient("redis://127.0.0.1:\(port)", {
            $0.connectTimeoutMillis = 300
            $0.commandTimeoutMillis = 2_000
        }, states: states)
        let error = await self.failure(of: client, ["PING"])
        XCTAssertEqual(error as? RedisClientError, .commandTimeout)
        XCTAssertTrue(self.disconnects(states).contains("connect timed out after 300 ms"), "\(states.all)")
        await self.assertLoopResponsive()
    }

    func testSubscriberWhoseServerStopsAnsweringReconnects() async throws {
        let server = try self.startServer()
        let client = try self.makeClient(server.url())
        let messages = Recorder<RedisPubSubMessage>()
        let states = Recorder<RedisConnectionState>()
        let subscriber = try self.makeSubscriber(server.url(), {
            $0.healthCheckIntervalMillis = 200
            $0.reconnectMaxDelayMillis = 200
        }, messages: messages, states: states)
        subscriber.subscribe(["quiet"])
        let subscribed = try await waitUntil { try await self.subscriberCount(client, "quiet") == 1 }
        XCTAssertTrue(subscribed)
        // Paused, the server leaves the health check's PING unanswered: the subscriber gives up on the
        // connection, and once the pause ends it is back and subscribed.
        _ = try await client.send(["CLIENT", "PAUSE", "1500", "ALL"])
        let dropped = await waitUntil(seconds: 5) { self.disconnects(states).contains("no answer to PING for 200 ms") }
        XCTAssertTrue(dropped, "\(states.all)")
        let delivered = await waitUntil(seconds: 10) {
            client.publish("quiet", [1])
            return messages.count > 0
        }
        XCTAssertTrue(delivered)
    }

    func testCommandsBeyondTheOutputBoundFailWithQueueFull() async throws {
        let server = try self.startServer()
        let client = try self.makeClient(server.url()) { $0.maxOutputBufferBytes = 64 * 1024 }
        _ = try await client.send(["PING"])
        let results = Recorder<Result<RESPValue, any Error>>()
        let big = [UInt8](repeating: 1, count: 1024 * 1024)
        // Within one loop iteration nothing is flushed: the second megabyte finds the first still waiting.
        self.loop.execute {
            client.publish("big", big) { results.append($0) }
            client.publish("big", big) { results.append($0) }
        }
        let finished = await waitUntil { results.count == 2 }
        XCTAssertTrue(finished)
        let outcomes = results.all
        XCTAssertEqual(outcomes.count, 2)
        if case .failure(let error)? = outcomes.first { XCTAssertEqual(error as? RedisClientError, .queueFull) } else { XCTFail("\(outcomes)") }
        XCTAssertEqual(try outcomes.last?.get(), .integer(0), "the first one went out")
    }
}
