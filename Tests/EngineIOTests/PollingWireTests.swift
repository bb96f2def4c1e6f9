import EngineIO
import Foundation
import XCTest

/// The bytes of polling answers on the wire, and the query edge cases the request path reads as bytes
/// (`transport`, `EIO`, `sid`): a session is found by the exact bytes of its id, the first of repeated
/// parameters counts, percent-encoded values are decoded, names are case-sensitive.
final class PollingWireTests: XCTestCase {
    private var server: TestEngineServer!

    override func setUpWithError() throws {
        self.server = try TestEngineServer(loops: 1) { $0.pingInterval = 60_000; $0.pingTimeout = 60_000 }
    }

    override func tearDown() {
        self.server?.shutdown()
        self.server = nil
    }

    /// Writes `request` on `socket` and reads one whole answer (head and `Content-Length` body) as bytes.
    private func exchange(_ socket: TestSocket, _ request: [UInt8]) throws -> [UInt8] {
        try socket.send(request)
        var received: [UInt8] = []
        let deadline = TestDeadline.after(5)
        while true {
            if let end = Self.headEnd(received), let length = Self.contentLength(received[..<end]), received.count >= end + length {
                return Array(received[..<(end + length)])
            }
            guard received.count < 1 << 20, case .bytes(let bytes) = socket.receive(deadline: deadline) else {
                throw TestClientError.timedOut("a whole polling answer")
            }
            received += bytes
        }
    }

    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4) where bytes[index..<index + 4].elementsEqual([13, 10, 13, 10]) { return index + 4 }
        return nil
    }

    private static func contentLength(_ head: ArraySlice<UInt8>) -> Int? {
        let text = String(decoding: head, as: UTF8.self)
        guard let line = text.components(separatedBy: "\r\n").first(where: { $0.hasPrefix("Content-Length: ") }) else { return nil }
        return Int(line.dropFirst("Content-Length: ".count))
    }

    /// The answer with its `Date` value (the only part that changes) replaced by `<date>`.
    private static func withoutDate(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let range = text.range(of: #"Date: [^\r]*\r\n"#, options: .regularExpression) else { return text }
        return text.replacingCharacters(in: range, with: "Date: <date>\r\n")
    }

    private func request(_ method: String, _ target: String, body: String = "") -> [UInt8] {
        TestHTTPClient.encodeRequest(method: method, target: target, port: self.server.port, body: Array(body.utf8))
    }

    func testPostAndPollAnswersAreTheseBytes() throws {
        let (sid, _) = try self.server.openPollingSession()
        let target = self.server.pollingTarget(sid: sid)
        let socket = try TestSocket(port: self.server.port)
        defer { socket.close() }
        // Three rounds on one keep-alive connection: the session's cached headers must give the same bytes.
        for round in 0..<3 {
            let message = "4hello \(round)"
            let post = try self.exchange(socket, self.request("POST", target, body: message))
            XCTAssertEqual(Self.withoutDate(post),
                           "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nAccess-Control-Allow-Origin: *\r\n"
                           + "Content-Length: 2\r\nDate: <date>\r\nConnection: keep-alive\r\n\r\nok")
            let poll = try self.exchange(socket, self.request("GET", target))
            XCTAssertEqual(Self.withoutDate(poll),
                           "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nAccess-Control-Allow-Origin: *\r\n"
                           + "Content-Length: \(message.utf8.count)\r\nDate: <date>\r\nConnection: keep-alive\r\n\r\n\(message)")
        }
        let date = String(decoding: try self.exchange(socket, self.request("POST", target, body: "4x")), as: UTF8.self)
        XCTAssertNotNil(date.range(of: #"\r\nDate: [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT\r\n"#,
                                   options: .regularExpression), date)
    }

    private func errorCode(_ method: String, _ target: String, body: String = "") throws -> Int? {
        let response = try TestHTTPClient.request(port: self.server.port, method: method, target: target, body: Array(body.utf8))
        return EngineTestPayload.errorBody(response)?.code
    }

    func testSessionIsFoundByTheExactBytesOfItsID() throws {
        let (sid, _) = try self.server.openPollingSession()
        // Percent-encoded: decoded before the lookup.
        let first = sid.utf8.first.map { String(format: "%%%02X", $0) } ?? ""
        XCTAssertEqual(try self.server.post(sid: first + String(sid.dropFirst()), body: "4a").text, "ok")
        // The first `sid` counts.
        XCTAssertEqual(try TestHTTPClient.request(port: self.server.port, method: "POST",
                                                  target: self.server.pollingTarget(sid: sid) + "&sid=other",
                                                  body: Array("4b".utf8)).text, "ok")
        let unknown = EngineErrorCode.unknownSessionID.rawValue
        XCTAssertEqual(try self.errorCode("POST", "/engine.io/?EIO=4&transport=polling&sid=other&sid=\(sid)", body: "4c"), unknown)
        // A prefix, an extension, another case, and ids longer than any inline one are not the session.
        for other in [String(sid.dropLast()), sid + "x", sid.uppercased() == sid ? sid.lowercased() : sid.uppercased(),
                      sid + String(repeating: "y", count: 30), ""] where other != sid {
            XCTAssertEqual(try self.errorCode("POST", self.server.pollingTarget(sid: other), body: "4d"), unknown, other)
        }
    }

    func testTransportAndVersionAreComparedExactly() throws {
        let transport = EngineErrorCode.unknownTransport.rawValue
        let version = EngineErrorCode.unsupportedProtocolVersion.rawValue
        XCTAssertEqual(try self.errorCode("GET", "/engine.io/?EIO=4&transport=Polling"), transport)
        XCTAssertEqual(try self.errorCode("GET", "/engine.io/?EIO=4&Transport=polling"), transport)
        XCTAssertEqual(try self.errorCode("GET", "/engine.io/?EIO=4&transport=pollingx"), transport)
        XCTAssertEqual(try self.errorCode("GET", "/engine.io/?EIO=4"), transport)
        XCTAssertEqual(try self.errorCode("GET", "/engine.io/?EIO=5&transport=polling"), version)
        XCTAssertEqual(try self.errorCode("GET", "/engine.io/?EIO=04&transport=polling"), version)
        XCTAssertEqual(try self.errorCode("GET", "/engine.io/?EIO=&transport=polling"), version)
        XCTAssertEqual(try self.errorCode("GET", "/engine.io/?eio=4&transport=polling"), version)
        XCTAssertEqual(try self.errorCode("GET", "/engine.io/?EIO=3&transport=polling"), version)  // allowEIO3 is off
        // Percent-encoded and repeated values: decoded, and the first counts.
        XCTAssertEqual(try TestHTTPClient.request(port: self.server.port, method: "GET",
                                                  target: "/engine.io/?EIO=%34&transport=p%6Flling").status, 200)
        XCTAssertEqual(try TestHTTPClient.request(port: self.server.port, method: "GET",
                                                  target: "/engine.io/?EIO=4&EIO=5&transport=polling&transport=x").status, 200)
        XCTAssertEqual(try self.errorCode("GET", "/engine.io/?EIO=5&EIO=4&transport=polling"), version)
        // No sid: only a GET opens a session.
        XCTAssertEqual(try self.errorCode("POST", "/engine.io/?EIO=4&transport=polling", body: "4x"),
                       EngineErrorCode.badHandshakeMethod.rawValue)
    }
}
