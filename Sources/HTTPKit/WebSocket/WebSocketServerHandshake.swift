import Transport

/// The server side of an accepted WebSocket opening handshake, built from an HTTP request head.
public struct WebSocketServerHandshake: Sendable {
    /// The negotiated permessage-deflate parameters, if any.
    public let deflate: PerMessageDeflateParameters?
    /// The `Sec-WebSocket-Accept` value's 28 bytes (in 32), kept inline: no String or array per upgrade.
    private let accept: (UInt64, UInt64, UInt64, UInt64)

    /// A refused handshake and the HTTP answer to give.
    public struct Refusal: Error, Sendable {
        /// The response to send.
        public let response: HTTPResponse
    }

    /// Validates `head` (RFC 6455 §4.2.1); `allowDeflate` negotiates permessage-deflate when offered.
    ///
    /// The checks and their order are `WebSocketHandshake.validateUpgradeRequest`'s, run on the header
    /// bytes in place (this runs for every new WebSocket): only a refusal or a deflate offer makes Strings.
    /// `head` is borrowed: an initializer's parameters are owned by default, which cost the caller a copy of
    /// the head (retains and releases of its strings) per upgrade.
    public init(request head: borrowing HTTPRequestHead, allowDeflate: Bool) throws(Refusal) {
        var accept: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var failure: WebSocketHandshakeError?
        if head.method != "GET" {
            failure = .methodNotGET
        } else if head.versionMajor != 1 || head.versionMinor < 1 {
            failure = .unsupportedHTTPVersion
        } else {
            let connectionListsUpgrade = head.headers.listsToken("upgrade", in: .connection)
            failure = head.headers.withFirstValues(.upgrade, .secWebSocketVersion, .secWebSocketKey) { upgrade, version, key in
                if let error = WebSocketHandshake.checkUpgradeFields(
                    upgrade: upgrade, connectionListsUpgrade: connectionListsUpgrade, version: version, key: key) {
                    return error
                }
                // The checks passed, so the key is there.
                if let key {
                    withUnsafeMutableBytes(of: &accept) { accept in
                        WebSocketHandshake.writeAcceptValue(forKey: key, into: accept.bindMemory(to: UInt8.self))
                    }
                }
                return nil
            }
        }
        if let failure {
            var headers = HTTPHeaders(failure.headers.map { ($0.name, $0.value) })
            headers.add("Content-Type", "text/plain; charset=utf-8")
            throw Refusal(response: HTTPResponse(status: failure.status, headers: headers, body: Array("\(failure)\n".utf8)))
        }
        var deflate: PerMessageDeflateParameters?
        if allowDeflate, let offers = head.headers.combinedValue(.secWebSocketExtensions) {
            deflate = PerMessageDeflate.negotiate(offers: offers, configuration: PerMessageDeflateConfiguration())
        }
        self.deflate = deflate
        self.accept = accept
    }

    /// Writes the `101 Switching Protocols` answer, as bytes straight into the connection's output (this runs
    /// for every new WebSocket: no String is built).
    public func writeResponse(to connection: TCPConnection, extraHeaders: HTTPHeaders = HTTPHeaders()) {
        connection.withOutboundBuffer { self.appendResponse(to: &$0, extraHeaders: extraHeaders) }
    }

    /// The 101 answer appended to `out`: status line, `Upgrade`, `Connection`, `Sec-WebSocket-Accept`,
    /// `Sec-WebSocket-Extensions` when compression was negotiated, then `extraHeaders`.
    func appendResponse(to out: inout [UInt8], extraHeaders: HTTPHeaders) {
        // The fixed part in one copy from static memory: status line, Upgrade, Connection and the Accept name.
        out.append(contentsOf: UnsafeRawBufferPointer(start: Self.fixedHead.utf8Start, count: Self.fixedHead.utf8CodeUnitCount))
        withUnsafeBytes(of: self.accept) { accept in
            out.append(contentsOf: accept[0..<WebSocketHandshake.acceptLength])
        }
        out.append(0x0D)
        out.append(0x0A)
        if let deflate = self.deflate {
            Self.appendField("Sec-WebSocket-Extensions".utf8, deflate.responseHeaderValue.utf8, to: &out)
        }
        extraHeaders.forEachField { name, value, _ in Self.appendField(name, value, to: &out) }
        out.append(0x0D)
        out.append(0x0A)
    }

    private static let fixedHead: StaticString =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "

    private static func appendField(_ name: some Collection<UInt8>, _ value: some Collection<UInt8>, to out: inout [UInt8]) {
        out.append(contentsOf: name)
        out.append(0x3A)
        out.append(0x20)
        out.append(contentsOf: value)
        out.append(0x0D)
        out.append(0x0A)
    }
}
