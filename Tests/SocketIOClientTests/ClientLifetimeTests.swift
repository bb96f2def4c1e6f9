import EngineIO
import Foundation
@testable import SocketIOClient
import SocketIOTestSupport
import XCTest

/// A manager and its sockets refer to each other; once the connection is over for good they must be freed when
/// the application drops them (LeakSanitizer found every disconnected manager kept until exit), while a
/// socket that is connected keeps working with no reference of the application's.
final class ClientLifetimeTests: XCTestCase {
    private var server: InProcessSocketIOServer!

    override func setUpWithError() throws {
        self.server = try ClientTestServer.make()
    }

    override func tearDown() {
        self.server.shutdown()
        self.server = nil
    }

    private func makeManager(reconnection: Bool = true) throws -> SocketManager {
        var options = SocketManagerOptions()
        options.transports = [.websocket]
        options.reconnection = reconnection
        options.reconnectionDelay = .milliseconds(50)
        options.reconnectionDelayMax = .milliseconds(200)
        return try SocketManager(url: self.server.url, options: options)
    }

    /// Waits (bounded) until both weak references are gone.
    private func assertFreed(_ manager: () -> SocketManager?, _ socket: () -> ClientSocket?, _ what: String) {
        let freed = TestWait.until(timeout: 10) { manager() == nil && socket() == nil }
        XCTAssertTrue(freed, "\(what): manager \(manager() == nil ? "freed" : "kept"), socket \(socket() == nil ? "freed" : "kept")")
    }

    func testADisconnectedSocketAndItsManagerAreFreed() async throws {
        weak var weakManager: SocketManager?
        weak var weakSocket: ClientSocket?
        do {
            let manager = try self.makeManager()
            let socket = manager.socket("/")
            weakManager = manager
            weakSocket = socket
            try await socket.waitForConnection(timeout: .seconds(10))
            socket.emit("echo", "still here")
            socket.disconnect()
            XCTAssertTrue(TestWait.until(timeout: 10) { !socket.isConnected && !manager.isOpen })
        }
        self.assertFreed({ weakManager }, { weakSocket }, "after disconnect()")
    }

    func testASocketLeftActiveAfterTheServerWentAwayIsFreedWithoutReconnection() async throws {
        weak var weakManager: SocketManager?
        weak var weakSocket: ClientSocket?
        do {
            let manager = try self.makeManager(reconnection: false)
            let socket = manager.socket("/")
            weakManager = manager
            weakSocket = socket
            try await socket.waitForConnection(timeout: .seconds(10))
            // The server closes the connection; with reconnection off nothing more will happen.
            self.server.shutdown()
            self.server = try ClientTestServer.make()  // for tearDown
            XCTAssertTrue(TestWait.until(timeout: 10) { !socket.isConnected && !manager.isOpen })
            XCTAssertTrue(socket.isActive, "the socket still wants to be connected, as the JavaScript client's")
        }
        self.assertFreed({ weakManager }, { weakSocket }, "after the server closed")
    }

    func testAConnectedSocketKeepsWorkingWithoutTheApplicationsReference() async throws {
        let events = EventRecorder(defaultTimeout: 10)
        weak var weakSocket: ClientSocket?
        do {
            let manager = try self.makeManager()
            let socket = manager.socket("/")
            weakSocket = socket
            socket.on("echo") { args, _ in events.record("echo:\(args.first?.stringValue ?? "-")") }
            try await socket.waitForConnection(timeout: .seconds(10))
        }
        // Only the connection holds the socket and its manager now.
        let socket = try XCTUnwrap(weakSocket, "a connected socket was freed")
        socket.emit("echo", "later")
        XCTAssertTrue(events.wait(for: "echo:later"), "\(events.all)")
        socket.disconnect()
    }
}

/// Polls a condition until it holds or the timeout passes.
private enum TestWait {
    static func until(timeout: TimeInterval, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return condition()
    }
}
