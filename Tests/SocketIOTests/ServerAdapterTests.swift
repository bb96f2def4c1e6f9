import EngineIO
import Foundation
import SocketIO
import Synchronization
import XCTest

/// A custom adapter plugs in through `SocketIOServerOptions.adapter` without touching Namespace or Socket:
/// this one wraps the in-memory adapter for local delivery and records the fan-out it sees, as a
/// cross-server adapter would before publishing.
final class ServerAdapterTests: XCTestCase {
    final class RecordingAdapter: SocketAdapter {
        let local: InMemoryAdapter
        let seen = Mutex<[String]>([])

        init(namespace: String) {
            self.local = InMemoryAdapter(namespace: namespace)
        }

        func addAll(_ socket: Socket, rooms: Set<String>) { self.local.addAll(socket, rooms: rooms) }
        func del(_ socket: Socket, room: String) { self.local.del(socket, room: room) }
        func delAll(_ socket: Socket) { self.local.delAll(socket) }
        func socketRooms(_ socket: Socket) -> Set<String> { self.local.socketRooms(socket) }

        func broadcast(_ packet: SocketBroadcastPacket, options: SocketBroadcastOptions) {
            self.seen.withLock { $0.append("broadcast:\(packet.event):\(options.rooms.sorted())") }
            self.local.broadcast(packet, options: options)
        }

        func broadcastWithAck(_ packet: SocketBroadcastPacket, options: SocketBroadcastOptions,
                              clientCount: @escaping @Sendable (Int) -> Void,
                              ack: @escaping @Sendable (Result<[JSONValue], SocketAckError>) -> Void) {
            self.local.broadcastWithAck(packet, options: options, clientCount: clientCount, ack: ack)
        }

        func forEachLocalSocket(_ options: SocketBroadcastOptions, _ body: @escaping @Sendable (Socket) -> Void,
                                completion: (@Sendable () -> Void)?) {
            self.local.forEachLocalSocket(options, body, completion: completion)
        }

        func disconnectSockets(_ options: SocketBroadcastOptions, close: Bool) {
            self.seen.withLock { $0.append("disconnect:\(options.rooms.sorted())") }
            self.local.disconnectSockets(options, close: close)
        }
    }

    func testCustomAdapterSeesBroadcastsAndBulkOperations() throws {
        let adapters = Mutex<[String: RecordingAdapter]>([:])
        let server = try TestSocketIOServer.make(options: { options in
            options.adapter = { name in
                let adapter = RecordingAdapter(namespace: name)
                adapters.withLock { $0[name] = adapter }
                return adapter
            }
        }) { io in
            io.on(.connection) { socket in
                socket.on("join") { args, ack in
                    socket.join(args.compactMap(\.stringValue))
                    ack?()
                }
            }
        }
        defer { server.shutdown() }
        let client = try SIOTestClient(port: server.port)
        try client.connectNamespace("/")
        try client.send(#"421["join","news"]"#)
        XCTAssertEqual(try client.nextText(), "431[]")
        server.io.to("news").emit("headline", "hi")
        XCTAssertEqual(try client.nextText(), #"42["headline","hi"]"#)
        server.io.in("news").disconnectSockets()
        XCTAssertEqual(try client.nextText(), "41")
        let main = try XCTUnwrap(adapters.withLock { $0["/"] })
        XCTAssertEqual(main.seen.withLock { $0 }, ["broadcast:headline:[\"news\"]", "disconnect:[\"news\"]"])
    }
}
