import EngineIO
import Foundation
import SocketIO
import SocketIOTestSupport
import XCTest

/// A Socket.IO client that stops reading: volatile emits to it are dropped (it stays connected), plain
/// emits fill its backlog past `maxBackpressure` and it is disconnected with "transport error".
final class ServerBackpressureTests: XCTestCase {
    private var server: InProcessSocketIOServer!
    private let recorder = TestRecorder()
    private let sockets = LockedBox<[Socket]>([])

    override func setUpWithError() throws {
        let recorder = self.recorder, sockets = self.sockets
        self.server = try TestSocketIOServer.make(loops: 1, engineOptions: { options in
            options.maxBackpressure = 256 * 1024
            options.pingInterval = 60_000
            options.pingTimeout = 60_000
        }) { io in
            io.on(.connection) { socket in
                sockets.update { $0.append(socket) }
                socket.on(.disconnect) { reason in recorder.record("disconnect:\(reason)") }
            }
        }
    }

    override func tearDown() {
        self.server.shutdown()
        self.server = nil
        // XCTest keeps every test case until the process exits: let go of the sockets too.
        self.sockets.update { $0.removeAll() }
    }

    /// Emits `count` events of 1 KB to the connected socket, 50 per loop turn (each turn is flushed before the
    /// next starts), far more in all than the kernel's buffers hold for a client that does not read.
    private func emit(_ count: Int, volatile: Bool) throws {
        let socket = try XCTUnwrap(self.sockets.get().first)
        let payload = JSONValue.string(String(repeating: "x", count: 1000))
        var left = count
        while left > 0 {
            let batch = min(50, left)
            left -= batch
            let done = DispatchSemaphore(value: 0)
            socket.loop.execute {
                for _ in 0..<batch {
                    if volatile { socket.volatile.emit("v", payload) } else { socket.emit("n", payload) }
                }
                done.signal()
            }
            done.wait()
        }
    }

    private func connectedClient() throws -> SIOTestClient {
        let client = try SIOTestClient(port: self.server.port)
        try client.connectNamespace("/")
        let deadline = Date(timeIntervalSinceNow: 3)
        while self.sockets.get().isEmpty && Date() < deadline { usleep(2000) }
        XCTAssertEqual(self.sockets.get().count, 1)
        return client
    }

    func testVolatileEmitsToAClientThatStopsReadingAreDroppedNotQueued() throws {
        let client = try self.connectedClient()
        defer { client.close() }
        try self.emit(20_000, volatile: true)
        // Over the cap the client would have been cut off inside one of those turns.
        XCTAssertFalse(self.recorder.all.contains { $0.hasPrefix("disconnect:") }, "\(self.recorder.all)")
        var received = 0
        while case .text(let text)? = client.quietFor(1) {
            if text.hasPrefix(#"42["v""#) { received += 1 }
        }
        XCTAssertGreaterThan(received, 0)
        XCTAssertLessThan(received, 20_000, "the ones emitted while it was behind were dropped")
        try client.send(#"42["still-here"]"#)
        XCTAssertFalse(self.recorder.all.contains { $0.hasPrefix("disconnect:") })
    }

    func testPlainEmitsToAClientThatStopsReadingEndWithTransportError() throws {
        let client = try self.connectedClient()
        defer { client.close() }
        try self.emit(20_000, volatile: false)
        XCTAssertTrue(self.recorder.wait(for: "disconnect:transport error"), "\(self.recorder.all)")
    }
}
