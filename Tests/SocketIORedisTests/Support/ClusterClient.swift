import Foundation
import SocketIO
import SocketIOClient
import SocketIOTestSupport

/// A Swift Socket.IO client of a test cluster that records every event it receives as `name [args JSON]`
/// and answers acknowledgement requests with `"answer from <name>"`.
final class ClusterClient: Sendable {
    let name: String
    let manager: SocketManager
    let socket: ClientSocket
    let events = EventRecorder(defaultTimeout: 10)

    init(name: String, url: String, namespace: String = "/", rooms: [String] = []) async throws {
        var options = SocketManagerOptions()
        options.transports = [.websocket]
        options.reconnection = false
        options.autoConnect = false
        self.name = name
        self.manager = try SocketManager(url: url, options: options)
        let auth: JSONObject = ["name": .string(name), "rooms": .array(rooms.map(JSONValue.string))]
        self.socket = self.manager.socket(namespace, options: ClientSocketOptions(auth: auth))
        let events = self.events
        let answer = "answer from \(name)"
        self.socket.onAny { event, args in events.record("\(event) \(JSONSerializer.string(.array(args)))") }
        self.socket.on("ask") { _, ack in ack?.send(arguments: [.string(answer)]) }
        self.socket.onDisconnect { _ in events.record("disconnected") }
        self.socket.connect()
        try await self.socket.waitForConnection(timeout: .seconds(10))
    }

    var id: String { self.socket.id ?? "" }

    /// Whether `entry` arrives within 10 s.
    func saw(_ entry: String) -> Bool { self.events.wait(for: entry) }

    func close() { self.manager.disconnect() }
}
