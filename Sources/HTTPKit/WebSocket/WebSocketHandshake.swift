import Foundation
import Transport

/// The WebSocket opening handshake (RFC 6455 §4), for both roles, on plain header strings.
///
/// No HTTP types are involved so the same code serves the server's HTTP parser and a future client: the
/// caller extracts the few header values and turns the result back into a response or a failure.
public enum WebSocketHandshake {
    /// The GUID RFC 6455 §1.3 appends to the client's key before hashing.
    public static let magicGUID = Self.magicGUIDBytes.description
    private static let magicGUIDBytes: StaticString = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// The length of a `Sec-WebSocket-Accept` value: base64 of a 20-byte SHA-1 digest.
    static let acceptLength = 28

    /// The only protocol version this implementation speaks (the RFC 6455 one).
    public static let supportedVersion = "13"

    /// The `Sec-WebSocket-Accept` value for a client's `Sec-WebSocket-Key`:
    /// base64(SHA-1(key + GUID)), computed on the key exactly as received (trimmed of surrounding spaces).
    public static func acceptValue(forKey key: String) -> String {
        var key = key
        return key.withUTF8 { key in
            String(unsafeUninitializedCapacity: Self.acceptLength) { accept in
                Self.writeAcceptValue(forKey: key, into: accept)
                return Self.acceptLength
            }
        }
    }

    // MARK: Server

    /// Checks a client's upgrade request and, when it is acceptable, says what to answer.
    ///
    /// Checks, in order: the method is GET; the HTTP version is 1.1 or later; `Upgrade` lists `websocket`;
    /// `Connection` lists `Upgrade`; `Sec-WebSocket-Version` is 13 (anything else, missing included, gets
    /// 426 with `Sec-WebSocket-Version: 13` so the client can retry); `Sec-WebSocket-Key` is base64 of 16
    /// bytes. Header names and tokens are compared without regard to case, as HTTP requires.
    ///
    /// - Parameters:
    ///   - request: the relevant parts of the request.
    ///   - permessageDeflate: the server's compression policy, or nil to never negotiate compression.
    /// - Returns: the 101 response headers (and negotiated compression), or the error response to send.
    public static func validateUpgradeRequest(
        _ request: WebSocketUpgradeRequest, permessageDeflate: PerMessageDeflateConfiguration? = nil
    ) -> Result<WebSocketUpgradeAccepted, WebSocketHandshakeError> {
        guard request.method == "GET" else { return .failure(.methodNotGET) }
        guard Self.isHTTP11OrLater(request.httpVersion) else { return .failure(.unsupportedHTTPVersion) }
        let connectionListsUpgrade = request.connection.map { Self.tokenList($0, contains: "upgrade") } ?? false
        if let error = Self.withOptionalUTF8(request.upgrade, { upgrade in
            Self.withOptionalUTF8(request.version) { version in
                Self.withOptionalUTF8(request.key) { key in
                    Self.checkUpgradeFields(
                        upgrade: upgrade, connectionListsUpgrade: connectionListsUpgrade, version: version, key: key)
                }
            }
        }) {
            return .failure(error)
        }
        var deflate: PerMessageDeflateParameters?
        if let configuration = permessageDeflate, let offers = request.extensions {
            deflate = PerMessageDeflate.negotiate(offers: offers, configuration: configuration)
        }
        return .success(WebSocketUpgradeAccepted(acceptValue: Self.acceptValue(forKey: request.key ?? ""), permessageDeflate: deflate))
    }

    /// Whether `key` is a valid `Sec-WebSocket-Key`: base64 that decodes to exactly 16 bytes.
    public static func isValidKey(_ key: String) -> Bool {
        // Read in place (no array per upgrade).
        var key = key
        return key.withUTF8 { Self.isValidKey($0) }
    }

    /// The header checks after method and HTTP version, on the field values' bytes as received (nil when
    /// absent); `connectionListsUpgrade` says whether any `Connection` field lists `upgrade`. Returns the
    /// first failure in the documented order, or nil when the request may be accepted.
    static func checkUpgradeFields(
        upgrade: UnsafeBufferPointer<UInt8>?, connectionListsUpgrade: Bool, version: UnsafeBufferPointer<UInt8>?,
        key: UnsafeBufferPointer<UInt8>?
    ) -> WebSocketHandshakeError? {
        guard let upgrade, ASCIICase.listContains(upgrade, "websocket") else { return .missingUpgradeHeader }
        guard connectionListsUpgrade else { return .missingConnectionUpgrade }
        // The version is checked before the key: a client speaking another version may also format its
        // key differently, and 426 is the answer that lets it recover.
        guard let version, Self.isSupportedVersion(Self.trimmed(version)) else {
            return .unsupportedVersion(version.map { String(decoding: $0, as: UTF8.self) })
        }
        guard let key, Self.isValidKey(Self.trimmed(key)) else { return .invalidKey }
        return nil
    }

    /// Whether `version` (already trimmed) is `supportedVersion`, "13", compared as two bytes.
    private static func isSupportedVersion(_ version: UnsafeBufferPointer<UInt8>) -> Bool {
        version.count == 2 && version[0] == UInt8(ascii: "1") && version[1] == UInt8(ascii: "3")
    }

    /// Whether `key` (already trimmed) is base64 of 16 bytes: 22 alphabet characters and "==".
    static func isValidKey(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
        guard key.count == 24, key[22] == UInt8(ascii: "="), key[23] == UInt8(ascii: "=") else { return false }
        return key[0..<22].allSatisfy { byte in
            (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || (byte >= 48 && byte <= 57) || byte == 43 || byte == 47
        }
    }

    /// Writes the `Sec-WebSocket-Accept` value for `key` (trimmed of surrounding spaces here) into the first
    /// `acceptLength` bytes of `accept`: key and GUID are hashed and encoded on the stack.
    static func writeAcceptValue(forKey key: UnsafeBufferPointer<UInt8>, into accept: UnsafeMutableBufferPointer<UInt8>) {
        let key = Self.trimmed(key)
        let guid = UnsafeRawBufferPointer(start: Self.magicGUIDBytes.utf8Start, count: Self.magicGUIDBytes.utf8CodeUnitCount)
        withUnsafeTemporaryAllocation(byteCount: key.count + guid.count + SHA1.digestSize, alignment: 8) { scratch in
            let input = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<(key.count + guid.count)])
            UnsafeMutableRawBufferPointer(rebasing: input[0..<key.count]).copyMemory(from: UnsafeRawBufferPointer(key))
            UnsafeMutableRawBufferPointer(rebasing: input[key.count...]).copyMemory(from: guid)
            let digest = UnsafeMutableRawBufferPointer(rebasing: scratch[input.count...])
            SHA1.hash(UnsafeRawBufferPointer(input), into: digest)
            _ = Base64.encode(UnsafeBufferPointer(digest.bindMemory(to: UInt8.self)), into: accept)
        }
    }

    /// `bytes` without leading and trailing spaces and tabs.
    static func trimmed(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var lower = 0, upper = bytes.count
        while lower < upper && (bytes[lower] == 0x20 || bytes[lower] == 0x09) { lower += 1 }
        while upper > lower && (bytes[upper - 1] == 0x20 || bytes[upper - 1] == 0x09) { upper -= 1 }
        return UnsafeBufferPointer(rebasing: bytes[lower..<upper])
    }

    /// `body` over the UTF-8 bytes of `text`, or over nil.
    private static func withOptionalUTF8<R>(_ text: String?, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
        guard var text else { return body(nil) }
        return text.withUTF8 { body($0) }
    }

    // MARK: Client

    /// A fresh `Sec-WebSocket-Key`: 16 random bytes, base64-encoded (RFC 6455 §4.1 requires a new random
    /// nonce per connection).
    public static func makeClientKey() -> String {
        var generator = SystemRandomNumberGenerator()
        // The 16 bytes and their 24 base64 characters are on the stack; only the returned String is allocated.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16 + 24) { buffer in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            raw.storeBytes(of: generator.next() as UInt64, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: generator.next() as UInt64, toByteOffset: 8, as: UInt64.self)
            let text = UnsafeMutableBufferPointer(rebasing: buffer[16...])
            let count = Base64.encode(UnsafeBufferPointer(rebasing: buffer[0..<16]), into: text)
            return String(decoding: UnsafeBufferPointer(rebasing: text[0..<count]), as: UTF8.self)
        }
    }

    /// The headers a client adds to its GET request (besides `Host` and anything application-specific).
    ///
    /// - Parameters:
    ///   - key: the value from `makeClientKey()`, kept to check the response.
    ///   - extensions: a `Sec-WebSocket-Extensions` offer (e.g. `PerMessageDeflate.clientOffer(...)`), if any.
    public static func clientRequestHeaders(key: String, extensions: String? = nil) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = [
            (name: "Upgrade", value: "websocket"),
            (name: "Connection", value: "Upgrade"),
            (name: "Sec-WebSocket-Key", value: key),
            (name: "Sec-WebSocket-Version", value: Self.supportedVersion),
        ]
        if let extensions {
            headers.append((name: "Sec-WebSocket-Extensions", value: extensions))
        }
        return headers
    }

    /// Whether a server's `Sec-WebSocket-Accept` matches the key the client sent.
    ///
    /// The comparison is byte for byte (after trimming spaces and tabs), as RFC 6455 §4.1 asks; the expected
    /// value is built on the stack, not as a String.
    public static func isValidAccept(_ accept: String?, forKey key: String) -> Bool {
        guard var accept else { return false }
        var key = key
        return accept.withUTF8 { received in
            key.withUTF8 { key in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.acceptLength) { expected in
                    Self.writeAcceptValue(forKey: key, into: expected)
                    return Self.trimmed(received).elementsEqual(expected)
                }
            }
        }
    }

    /// Checks a server's answer to the client's upgrade request (RFC 6455 §4.1, client requirements 1-4).
    ///
    /// Extensions are checked separately (`PerMessageDeflate.parseServerResponse`), since only the caller
    /// knows what it offered.
    public static func validateUpgradeResponse(
        status: Int, upgrade: String?, connection: String?, accept: String?, key: String
    ) throws(WebSocketClientHandshakeError) {
        guard status == 101 else { throw .unexpectedStatus(status) }
        guard let upgrade, Self.tokenList(upgrade, contains: "websocket") else { throw .missingUpgradeHeader }
        guard let connection, Self.tokenList(connection, contains: "upgrade") else {
            throw .missingConnectionUpgrade
        }
        guard Self.isValidAccept(accept, forKey: key) else { throw .invalidAccept }
    }

    // MARK: Helpers

    /// Whether a comma-separated header value lists `token` (compared case-insensitively, `token` lowercase).
    static func tokenList(_ value: String, contains token: String) -> Bool {
        // Byte-wise, in place: this runs twice per upgrade, and splitting and lowercasing Strings cost more
        // than the rest.
        ASCIICase.listContains(value, token: token)
    }

    /// Accepts "HTTP/1.1", "HTTP/1.2"... (and the bare "1.1"), rejecting 1.0 and 0.9; HTTP/2 and later
    /// upgrade WebSockets differently (RFC 8441), so they are not accepted here either.
    static func isHTTP11OrLater(_ version: String) -> Bool {
        if version == "HTTP/1.1" || version == "1.1" { return true }
        var text = Substring(version.trimmingHTTPWhitespace())
        if text.uppercased().hasPrefix("HTTP/") {
            text = text.dropFirst(5)
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]) else { return false }
        return major == 1 && minor >= 1
    }
}

/// The parts of an HTTP request that the WebSocket handshake looks at. Header values are as received
/// (nil when absent; repeated headers joined with ", ").
public struct WebSocketUpgradeRequest: Sendable, Hashable {
    /// The request method; must be "GET".
    public var method: String
    /// The HTTP version, e.g. "HTTP/1.1" (or "1.1").
    public var httpVersion: String
    /// The `Upgrade` header.
    public var upgrade: String?
    /// The `Connection` header.
    public var connection: String?
    /// The `Sec-WebSocket-Key` header.
    public var key: String?
    /// The `Sec-WebSocket-Version` header.
    public var version: String?
    /// The `Sec-WebSocket-Extensions` header(s), joined with ", ".
    public var extensions: String?

    /// Creates a request description.
    public init(
        method: String, httpVersion: String = "HTTP/1.1", upgrade: String?, connection: String?, key: String?,
        version: String?, extensions: String? = nil
    ) {
        self.method = method
        self.httpVersion = httpVersion
        self.upgrade = upgrade
        self.connection = connection
        self.key = key
        self.version = version
        self.extensions = extensions
    }
}

/// A successful upgrade: what the server answers with status 101.
public struct WebSocketUpgradeAccepted: Sendable, Hashable {
    /// The status to send: 101 Switching Protocols.
    public static let status = 101

    /// The `Sec-WebSocket-Accept` value.
    public var acceptValue: String
    /// The negotiated permessage-deflate parameters, or nil when compression is not in use. Build the
    /// connection's compressor and decompressor from these.
    public var permessageDeflate: PerMessageDeflateParameters?

    /// Creates the result.
    public init(acceptValue: String, permessageDeflate: PerMessageDeflateParameters? = nil) {
        self.acceptValue = acceptValue
        self.permessageDeflate = permessageDeflate
    }

    /// The headers of the 101 response, in order: `Upgrade`, `Connection`, `Sec-WebSocket-Accept`, and
    /// `Sec-WebSocket-Extensions` when compression was negotiated.
    public var headers: [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = [
            (name: "Upgrade", value: "websocket"),
            (name: "Connection", value: "Upgrade"),
            (name: "Sec-WebSocket-Accept", value: self.acceptValue),
        ]
        if let deflate = self.permessageDeflate {
            headers.append((name: "Sec-WebSocket-Extensions", value: deflate.responseHeaderValue))
        }
        return headers
    }
}

/// Why a server refuses an upgrade request, with the HTTP response to send.
public enum WebSocketHandshakeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The method is not GET.
    case methodNotGET
    /// The request is HTTP/1.0 or older (or not HTTP/1.x).
    case unsupportedHTTPVersion
    /// `Upgrade` is missing or does not list `websocket`.
    case missingUpgradeHeader
    /// `Connection` is missing or does not list `Upgrade`.
    case missingConnectionUpgrade
    /// `Sec-WebSocket-Key` is missing or not base64 of 16 bytes.
    case invalidKey
    /// `Sec-WebSocket-Version` is missing or not 13; carries what the client sent.
    case unsupportedVersion(String?)

    /// The HTTP status to answer with: 426 Upgrade Required for a wrong version, 400 otherwise.
    public var status: Int {
        switch self {
        case .unsupportedVersion: return 426
        default: return 400
        }
    }

    /// Headers the error response must carry: `Sec-WebSocket-Version: 13` with 426 (RFC 6455 §4.4), and
    /// the matching `Upgrade`/`Connection` pair that RFC 7231 §6.5.15 requires of a 426.
    public var headers: [(name: String, value: String)] {
        switch self {
        case .unsupportedVersion:
            return [
                (name: "Sec-WebSocket-Version", value: WebSocketHandshake.supportedVersion),
                (name: "Upgrade", value: "websocket"),
                (name: "Connection", value: "Upgrade"),
            ]
        default:
            return []
        }
    }

    /// A short explanation, suitable as a plain-text response body.
    public var description: String {
        switch self {
        case .methodNotGET: return "WebSocket upgrade requires GET"
        case .unsupportedHTTPVersion: return "WebSocket upgrade requires HTTP/1.1"
        case .missingUpgradeHeader: return "missing or invalid Upgrade header"
        case .missingConnectionUpgrade: return "Connection header must include Upgrade"
        case .invalidKey: return "missing or invalid Sec-WebSocket-Key"
        case .unsupportedVersion: return "unsupported Sec-WebSocket-Version (13 required)"
        }
    }
}

/// Why a client rejects a server's upgrade response.
public enum WebSocketClientHandshakeError: Error, Sendable, Hashable {
    /// The status is not 101.
    case unexpectedStatus(Int)
    /// `Upgrade` is missing or does not list `websocket`.
    case missingUpgradeHeader
    /// `Connection` is missing or does not list `Upgrade`.
    case missingConnectionUpgrade
    /// `Sec-WebSocket-Accept` is missing or does not match the key sent.
    case invalidAccept
}

extension String {
    /// The string without leading and trailing spaces and tabs (HTTP's optional whitespace).
    fileprivate func trimmingHTTPWhitespace() -> String {
        if let first = self.utf8.first, let last = self.utf8.last, first != 32, first != 9, last != 32, last != 9 {
            return String(self)
        }
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
