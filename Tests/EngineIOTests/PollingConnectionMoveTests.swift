import EngineIO
import Foundation
import XCTest

/// A keep-alive connection whose polling request was served by another loop (the session's) moves to that
/// loop after the answer, so its next requests need no hop. The client must not notice: requests sent while
/// the connection moves, and every request after, are answered in order with the session's messages.
final class PollingConnectionMoveTests: XCTestCase {
    func testKeepAliveConnectionsServeTheSessionBeforeDuringAndAfterAMove() throws {
        let server = try TestEngineServer(loops: 2, spread: .evenHash) { options in
            options.pingInterval = 60_000
            options.pingTimeout = 60_000
        }
        defer { server.shutdown() }
        let (sid, _) = try server.openPollingSession()
        // Sixteen connections: the kernel hashes them over both loops (`.evenHash`), so some are served by the loop that
        // does not own the session (all on one loop has a probability of 2^-15) and move.
        var clients = try (0..<16).map { _ in try TestHTTPClient(port: server.port) }
        defer { for client in clients { client.socket.close() } }
        for round in 0..<3 {
            for (index, client) in clients.enumerated() {
                let text = "m\(round)-\(index)"
                // The second request goes out right behind the first answer, while a moving connection is
                // still on its way to the session's loop.
                try client.send(method: "POST", target: server.pollingTarget(sid: sid), body: "4" + text,
                                headers: [("Content-Type", "text/plain;charset=UTF-8")])
                let posted = try client.readResponse()
                XCTAssertEqual(posted.status, 200, posted.text)
                XCTAssertEqual(posted.text, "ok")
                try client.send(method: "GET", target: server.pollingTarget(sid: sid))
                let polled = try client.readResponse()
                XCTAssertEqual(polled.status, 200, polled.text)
                XCTAssertEqual(EngineTestPayload.packets(polled.body), ["4" + text], "round \(round), connection \(index)")
            }
        }
        // A request pipelined behind another is answered as well (a connection with buffered input stays).
        let pipelined = try TestHTTPClient(port: server.port)
        clients.append(pipelined)
        let post = TestHTTPClient.encodeRequest(method: "POST", target: server.pollingTarget(sid: sid), port: server.port,
                                                body: Array("4last".utf8), headers: [("Content-Type", "text/plain;charset=UTF-8")])
        let poll = TestHTTPClient.encodeRequest(method: "GET", target: server.pollingTarget(sid: sid), port: server.port)
        try pipelined.socket.send(post + poll)
        XCTAssertEqual(try pipelined.readResponse().text, "ok")
        XCTAssertEqual(EngineTestPayload.packets(try pipelined.readResponse().body), ["4last"])
        XCTAssertNil(server.closeReason(sid), "the session must stay open")
    }
}
