import Transport
import Foundation
import XCTest

@testable import Redis

/// A test case with an event loop and helpers to start real redis-servers, all stopped in tear-down.
class RedisTestCase: XCTestCase {
    var group: EventLoopGroup!
    var loop: EventLoop { self.group.loops[0] }
    private var servers: [RedisServerProcess] = []
    private var clients: [RedisClient] = []
    private var subscribers: [RedisSubscriber] = []

    override func setUpWithError() throws {
        self.group = try EventLoopGroup(loopCount: 1)
    }

    override func tearDown() {
        for client in self.clients { client.close() }
        for subscriber in self.subscribers { subscriber.close() }
        self.group.shutdown()
        for server in self.servers { server.stop() }
        self.clients = []
        self.subscribers = []
        self.servers = []
    }

    /// Starts a redis-server for this test.
    func startServer(port: Int? = nil, unixSocket: Bool = false, _ extraArguments: [String] = []) throws -> RedisServerProcess {
        let server = try RedisServerProcess(port: port, unixSocket: unixSocket, extraArguments: extraArguments)
        self.servers.append(server)
        try server.start()
        return server
    }

    /// A server that is registered for tear-down but not started.
    func preparedServer() throws -> RedisServerProcess {
        let server = try RedisServerProcess()
        self.servers.append(server)
        return server
    }

    /// A connected-on-demand client for `url`, closed in tear-down.
    func makeClient(_ url: String, _ adjust: (inout RedisConfiguration) -> Void = { _ in },
                    states: Recorder<RedisConnectionState>? = nil) throws -> RedisClient {
        var configuration = try RedisConfiguration(url: url)
        adjust(&configuration)
        let client = RedisClient(configuration: configuration, loop: self.loop)
        if let states { client.onStateChange = { states.append($0) } }
        client.connect()
        self.clients.append(client)
        return client
    }

    /// A subscriber for `url` recording its messages, closed in tear-down.
    func makeSubscriber(_ url: String, _ adjust: (inout RedisConfiguration) -> Void = { _ in },
                        messages: Recorder<RedisPubSubMessage>,
                        states: Recorder<RedisConnectionState>? = nil) throws -> RedisSubscriber {
        var configuration = try RedisConfiguration(url: url)
        adjust(&configuration)
        let subscriber = RedisSubscriber(configuration: configuration, loop: self.loop) { messages.append($0) }
        if let states { subscriber.onStateChange = { states.append($0) } }
        subscriber.connect()
        self.subscribers.append(subscriber)
        return subscriber
    }

    /// The number of subscribers of `channel` according to PUBSUB NUMSUB.
    func subscriberCount(_ client: RedisClient, _ channel: String) async throws -> Int64 {
        let reply = try await client.send(["PUBSUB", "NUMSUB", RedisArgument(channel)])
        guard let items = reply.elements, items.count == 2, let count = items[1].integer else {
            throw RedisClientError.protocolError("unexpected NUMSUB reply \(reply)")
        }
        return count
    }

    /// The failure of `send`, or nil when it succeeded.
    func failure(of client: RedisClient, _ arguments: [RedisArgument]) async -> (any Error)? {
        do {
            _ = try await client.send(arguments)
            return nil
        } catch {
            return error
        }
    }
}
