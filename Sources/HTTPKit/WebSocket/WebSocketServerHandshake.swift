import Transport

/// The server side of an accepted WebSocket opening handshake, built from an HTTP request head.
public struct WebSocketServerHandshake: Sendable {
    /// The negotiated permessage-deflate parameters, if any.
    public let deflate: PerMessageDeflateParameters?
    private let accepted: WebSocketUpgradeAccepted

    /// A refused handshake and the HTTP answer to give.
    public struct Refusal: Error, Sendable {
        /// The response to send.
        public let response: HTTPResponse
    }

    /// Validates `head` (RFC 6455 §4.2.1); `allowDeflate` negotiates permessage-deflate when offered.
    public init(request head: HTTPRequestHead, allowDeflate: Bool) throws(Refusal) {
        // Known names: each value is found by a one-byte compare per field, and a list is only joined when
        // the header repeats (this runs for every new WebSocket).
        let headers = head.headers
        let request = WebSocketUpgradeRequest(
            method: head.method, httpVersion: Self.versionText(major: head.versionMajor, minor: head.versionMinor),
            upgrade: headers[.upgrade], connection: headers.combinedValue(.connection) ?? "",
            key: headers[.secWebSocketKey], version: headers[.secWebSocketVersion],
            extensions: allowDeflate ? headers.combinedValue(.secWebSocketExtensions) : nil)
        switch WebSocketHandshake.validateUpgradeRequest(request, permessageDeflate: allowDeflate ? PerMessageDeflateConfiguration() : nil) {
        case .success(let accepted):
            self.accepted = accepted
            self.deflate = accepted.permessageDeflate
        case .failure(let error):
            var headers = HTTPHeaders(error.headers.map { ($0.name, $0.value) })
            headers.add("Content-Type", "text/plain; charset=utf-8")
            throw Refusal(response: HTTPResponse(status: error.status, headers: headers, body: Array("\(error)\n".utf8)))
        }
    }

    /// Writes the `101 Switching Protocols` answer, as bytes straight into the connection's output (this runs
    /// for every new WebSocket: no String is built).
    public func writeResponse(to connection: TCPConnection, extraHeaders: HTTPHeaders = HTTPHeaders()) {
        connection.withOutboundBuffer { out in
            // The fixed part in one copy: status line, Upgrade, Connection and the Accept name.
            out.append(contentsOf: Self.fixedHead)
            out.append(contentsOf: self.accepted.acceptValue.utf8)
            out.append(0x0D)
            out.append(0x0A)
            if let deflate = self.accepted.permessageDeflate {
                Self.appendField("Sec-WebSocket-Extensions", deflate.responseHeaderValue, to: &out)
            }
            extraHeaders.forEachField { name, value, _ in
                out.append(contentsOf: name)
                out.append(0x3A)
                out.append(0x20)
                out.append(contentsOf: value)
                out.append(0x0D)
                out.append(0x0A)
            }
            out.append(0x0D)
            out.append(0x0A)
        }
    }

    private static let fixedHead: [UInt8] = Array(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ".utf8)

    private static func appendField(_ name: String, _ value: String, to out: inout [UInt8]) {
        out.append(contentsOf: name.utf8)
        out.append(0x3A)
        out.append(0x20)
        out.append(contentsOf: value.utf8)
        out.append(0x0D)
        out.append(0x0A)
    }

    /// `HTTP/1.1` without formatting for the version every client sends.
    private static func versionText(major: Int, minor: Int) -> String {
        major == 1 && minor == 1 ? "HTTP/1.1" : "HTTP/\(major).\(minor)"
    }
}
