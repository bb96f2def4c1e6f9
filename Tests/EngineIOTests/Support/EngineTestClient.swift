import Dispatch
import EngineIO
import Foundation

/// Engine.IO-level helpers over the raw test clients: polling handshake, polls and posts, payload
/// splitting, and WebSocket reads that answer the server's heartbeat like a real client.
extension TestEngineServer {
    /// Performs a polling handshake (`GET /engine.io/?EIO=4&transport=polling`) and returns the session id
    /// and the parsed handshake JSON. Throws unless the answer is 200 with an open packet.
    func openPollingSession() throws -> (sid: String, handshake: [String: Any]) {
        let response = try TestHTTPClient.request(port: self.port, method: "GET", target: self.pollingTarget())
        guard response.status == 200, response.body.first == UInt8(ascii: "0") else {
            throw TestClientError.protocolViolation("handshake answered \(response.status): \(response.text)")
        }
        guard let json = EngineTestPayload.handshakeJSON(response.text), let sid = json["sid"] as? String else {
            throw TestClientError.protocolViolation("handshake body is not an open packet: \(response.text)")
        }
        return (sid, json)
    }

    /// A one-shot polling GET for `sid`.
    func poll(sid: String, timeout: TimeInterval = 5) throws -> TestHTTPResponse {
        try TestHTTPClient.request(port: self.port, method: "GET", target: self.pollingTarget(sid: sid), timeout: timeout)
    }

    /// Starts a polling GET for `sid` on its own connection without waiting for the answer; read it later
    /// with `readResponse()`.
    func startPoll(sid: String, timeout: TimeInterval = 5) throws -> TestHTTPClient {
        let client = try TestHTTPClient(port: self.port, timeout: timeout)
        try client.send(method: "GET", target: self.pollingTarget(sid: sid))
        return client
    }

    /// A one-shot polling POST of `body` (an encoded payload) for `sid`.
    func post(sid: String, body: [UInt8], timeout: TimeInterval = 5) throws -> TestHTTPResponse {
        try TestHTTPClient.request(port: self.port, method: "POST", target: self.pollingTarget(sid: sid), body: body,
                                   headers: [("Content-Type", "text/plain;charset=UTF-8")], timeout: timeout)
    }

    func post(sid: String, body: String, timeout: TimeInterval = 5) throws -> TestHTTPResponse {
        try self.post(sid: sid, body: Array(body.utf8), timeout: timeout)
    }

    /// Runs a no-op on every loop, twice, and waits for each. Requests the client has already written
    /// (they are in the server's socket buffer once `send` returns on loopback) have then almost surely
    /// been read and handed to their session's loop. This makes an ordering likely, never certain: tests
    /// that depend on it must still tolerate the other order.
    func drainLoops() {
        for _ in 0..<2 {
            for loop in self.group.loops {
                let done = DispatchSemaphore(value: 0)
                loop.execute { done.signal() }
                _ = done.wait(timeout: .now() + 2)
            }
        }
    }
}

/// Splitting and parsing of polling payloads as text.
enum EngineTestPayload {
    /// The packets of a polling payload (separated by the record separator 0x1E), as strings.
    static func packets(_ body: [UInt8]) -> [String] {
        guard !body.isEmpty else { return [] }
        return body.split(separator: 0x1E, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The JSON object of an open packet `0{...}`, or nil.
    static func handshakeJSON(_ packet: String) -> [String: Any]? {
        guard packet.first == "0" else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(packet.utf8.dropFirst()))) as? [String: Any]
    }

    /// `(code, message)` of an error body `{"code":N,"message":"..."}`, or nil.
    static func errorBody(_ response: TestHTTPResponse) -> (code: Int, message: String)? {
        guard let json = response.jsonObject, json.count == 2, let code = json["code"] as? Int,
              let message = json["message"] as? String else { return nil }
        return (code, message)
    }
}

extension TestWebSocketClient {
    /// The next Engine.IO message (text frame other than a ping, or binary frame) or the end of the
    /// connection. Engine.IO pings (`2`) are answered with `3` when `answeringPings`, else returned.
    func nextEngineMessage(answeringPings: Bool = true, timeout: TimeInterval = 5) throws -> Event {
        let deadline = TestDeadline.after(timeout)
        while true {
            let event = try self.nextMessage(timeout: max(0.001, deadline.timeIntervalSinceNow))
            if answeringPings, case .text(let text) = event, text == "2" {
                try self.sendText("3")
                continue
            }
            return event
        }
    }
}
