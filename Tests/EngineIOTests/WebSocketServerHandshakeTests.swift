import XCTest

@testable import HTTPKit
@testable import Transport

/// The server's handshake on parsed request heads: the 101 bytes and every refusal's status, headers and
/// body, as they go on the wire.
final class WebSocketServerHandshakeTests: XCTestCase {
    private let sampleKey = "dGhlIHNhbXBsZSBub25jZQ=="
    private let sampleAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

    /// The head of `fields` after a request line, through the real parser.
    private func head(
        _ fields: [String], method: String = "GET", version: String = "HTTP/1.1"
    ) throws -> HTTPRequestHead {
        var parser = HTTPRequestParser()
        var buffer = ByteBuffer(string: "\(method) /socket.io/?EIO=4&transport=websocket \(version)\r\n"
            + fields.map { $0 + "\r\n" }.joined() + "\r\n")
        guard case .head(let head)? = try parser.next(from: &buffer) else {
            XCTFail("no head")
            throw HTTPParseError.badRequest("no head")
        }
        return head
    }

    private func standardFields(
        upgrade: String? = "websocket", connection: String? = "Upgrade", key: String? = nil, version: String? = "13"
    ) -> [String] {
        var fields = ["Host: localhost"]
        if let upgrade { fields.append("Upgrade: \(upgrade)") }
        if let connection { fields.append("Connection: \(connection)") }
        fields.append("Sec-WebSocket-Key: \(key ?? sampleKey)")
        if let version { fields.append("Sec-WebSocket-Version: \(version)") }
        return fields
    }

    private func refusal(_ head: HTTPRequestHead) -> HTTPResponse? {
        do {
            _ = try WebSocketServerHandshake(request: head, allowDeflate: true)
            return nil
        } catch {
            return error.response
        }
    }

    private func text(_ response: HTTPResponse?) -> String? {
        guard let response, case .bytes(let body) = response.body else { return nil }
        return String(decoding: body, as: UTF8.self)
    }

    func testAcceptedAnswerIsTheExact101Head() throws {
        let handshake = try WebSocketServerHandshake(request: head(standardFields()), allowDeflate: false)
        var out: [UInt8] = []
        handshake.appendResponse(to: &out, extraHeaders: HTTPHeaders())
        XCTAssertEqual(
            String(decoding: out, as: UTF8.self),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: \(sampleAccept)\r\n\r\n")
        XCTAssertNil(handshake.deflate)
    }

    func testAcceptedAnswerCarriesDeflateAndExtraHeadersInOrder() throws {
        let fields = standardFields() + ["Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"]
        let handshake = try WebSocketServerHandshake(request: head(fields), allowDeflate: true)
        var out: [UInt8] = []
        handshake.appendResponse(to: &out, extraHeaders: ["Set-Cookie": "io=abc; Path=/"])
        XCTAssertEqual(
            String(decoding: out, as: UTF8.self),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: \(sampleAccept)\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"
                + "Set-Cookie: io=abc; Path=/\r\n\r\n")
        XCTAssertNotNil(handshake.deflate)
        // Without the server's consent the offer is ignored.
        let plain = try WebSocketServerHandshake(request: head(fields), allowDeflate: false)
        XCTAssertNil(plain.deflate)
    }

    func testTokensAreCaseInsensitiveListMembersAndConnectionMaySpanFields() throws {
        let fields = ["Host: x", "upgrade: WebSocket", "Connection: keep-alive", "CONNECTION: foo, UPGRADE",
                      "sec-websocket-key: \(sampleKey)", "SEC-WEBSOCKET-VERSION: 13"]
        XCTAssertNil(refusal(try head(fields)))
        // Spaces around values added by code rather than the parser are trimmed too.
        var head = try head(standardFields(key: "", version: nil))
        head.headers = HTTPHeaders([("Upgrade", "websocket"), ("Connection", "Upgrade"),
                                    ("Sec-WebSocket-Key", " \(sampleKey)\t"), ("Sec-WebSocket-Version", " 13 ")])
        XCTAssertNil(refusal(head))
    }

    func testRefusalsKeepTheirStatusAndMessage() throws {
        let cases: [(HTTPRequestHead, Int, String)] = [
            (try head(standardFields(), method: "POST"), 400, "WebSocket upgrade requires GET\n"),
            (try head(standardFields(), version: "HTTP/1.0"), 400, "WebSocket upgrade requires HTTP/1.1\n"),
            (try head(standardFields(upgrade: nil)), 400, "missing or invalid Upgrade header\n"),
            (try head(standardFields(upgrade: "h2c")), 400, "missing or invalid Upgrade header\n"),
            // Only the first Upgrade field counts.
            (try head(standardFields(upgrade: "h2c") + ["Upgrade: websocket"]), 400, "missing or invalid Upgrade header\n"),
            (try head(standardFields(connection: nil)), 400, "Connection header must include Upgrade\n"),
            (try head(standardFields(connection: "Upgraded, keep-alive")), 400, "Connection header must include Upgrade\n"),
            (try head(standardFields(key: "dGhlIHNhbXBsZSBub25jZQ")), 400, "missing or invalid Sec-WebSocket-Key\n"),
            (try head(standardFields(key: "dGhlIHNhbXBsZSBub25jZ!==")), 400, "missing or invalid Sec-WebSocket-Key\n"),
            (try head(standardFields(key: "AAAAAAAAAAAAAAAAAAAAAAAA")), 400, "missing or invalid Sec-WebSocket-Key\n"),
        ]
        for (index, (head, status, message)) in cases.enumerated() {
            let response = refusal(head)
            XCTAssertEqual(response?.status, status, "case \(index)")
            XCTAssertEqual(text(response), message, "case \(index)")
            XCTAssertEqual(response?.headers.fields.map { "\($0.name): \($0.value)" },
                           ["Content-Type: text/plain; charset=utf-8"], "case \(index)")
        }
        var noKey = try head(standardFields())
        noKey.headers = HTTPHeaders([("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Version", "13")])
        XCTAssertEqual(refusal(noKey)?.status, 400)
        XCTAssertEqual(text(refusal(noKey)), "missing or invalid Sec-WebSocket-Key\n")
    }

    func testWrongOrMissingVersionGets426BeforeTheKeyIsChecked() throws {
        for version in ["8", "12", "14", "013", nil] as [String?] {
            let response = refusal(try head(standardFields(key: "bad", version: version)))
            XCTAssertEqual(response?.status, 426, "\(String(describing: version))")
            XCTAssertEqual(text(response), "unsupported Sec-WebSocket-Version (13 required)\n")
            XCTAssertEqual(
                response?.headers.fields.map { "\($0.name): \($0.value)" },
                ["Sec-WebSocket-Version: 13", "Upgrade: websocket", "Connection: Upgrade",
                 "Content-Type: text/plain; charset=utf-8"])
        }
    }

    func testStringAndByteChecksAgreeOnTheAcceptValue() {
        XCTAssertEqual(WebSocketHandshake.acceptValue(forKey: " \(sampleKey) "), sampleAccept)
        XCTAssertEqual(SHA1.hash(Array("abc".utf8)).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(),
                       "a9993e364706816aba3e25717850c26c9cd0d89d")
    }
}
