/// The server side of an accepted WebSocket opening handshake, built from an HTTP request head.
public struct WebSocketServerHandshake: Sendable {
    /// The negotiated permessage-deflate parameters, if any.
    public let deflate: PerMessageDeflateParameters?
    private let accepted: WebSocketUpgradeAccepted

    /// A refused handshake and the HTTP answer to give.
    public struct Refusal: Error, Sendable {
        public let response: HTTPResponse
    }

    /// Validates `head` (RFC 6455 §4.2.1); `allowDeflate` negotiates permessage-deflate when offered.
    public init(request head: HTTPRequestHead, allowDeflate: Bool) throws(Refusal) {
        let offers = head.headers.values("Sec-WebSocket-Extensions")
        let request = WebSocketUpgradeRequest(
            method: head.method, httpVersion: "HTTP/\(head.versionMajor).\(head.versionMinor)",
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

    /// Writes the `101 Switching Protocols` answer.
    public func writeResponse(to connection: TCPConnection, extraHeaders: HTTPHeaders = HTTPHeaders()) {
        var text = "HTTP/1.1 101 Switching Protocols\r\n"
        for field in self.accepted.headers { text += "\(field.name): \(field.value)\r\n" }
        for field in extraHeaders { text += "\(field.name): \(field.value)\r\n" }
        text += "\r\n"
        connection.write(Array(text.utf8))
    }
}
