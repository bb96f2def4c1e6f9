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
        let offers = head.headers.values("Sec-WebSocket-Extensions")
        let request = WebSocketUpgradeRequest(
            method: head.method, httpVersion: Self.versionText(major: head.versionMajor, minor: head.versionMinor),
            upgrade: head.headers["Upgrade"], connection: head.headers.values("Connection").joined(separator: ", "),
            key: head.headers["Sec-WebSocket-Key"], version: head.headers["Sec-WebSocket-Version"],
            extensions: offers.isEmpty ? nil : offers.joined(separator: ", "))
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
            out.append(contentsOf: Self.statusLine)
            for field in self.accepted.headers { Self.appendField(field.name, field.value, to: &out) }
            for field in extraHeaders { Self.appendField(field.name, field.value, to: &out) }
            out.append(0x0D)
            out.append(0x0A)
        }
    }

    private static let statusLine: [UInt8] = Array("HTTP/1.1 101 Switching Protocols\r\n".utf8)

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
