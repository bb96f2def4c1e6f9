/// permessage-deflate (RFC 7692) negotiation, for both roles.
///
/// The compression itself lives in `PerMessageDeflateCompressor` and `PerMessageDeflateDecompressor`;
/// this file decides, from a `Sec-WebSocket-Extensions` exchange, which parameters they run with.
///
/// Server use: `PerMessageDeflate.negotiate(offers:configuration:)` on the request's header value (or let
/// `WebSocketHandshake.validateUpgradeRequest` do it), send `responseHeaderValue` as the response's
/// `Sec-WebSocket-Extensions`, then `makeCompressor(role: .server)` / `makeDecompressor(role: .server)`.
///
/// Client use: send `PerMessageDeflate.clientOffer(configuration:)`, pass the response's header value
/// to `parseServerResponse(_:configuration:)`, then `makeCompressor(role: .client)` and so on.
public enum PerMessageDeflate {
    /// The extension token.
    public static let extensionName = "permessage-deflate"

    /// Messages shorter than this many bytes are sent uncompressed by default, as Node's `ws` and
    /// `engine.io` do (`perMessageDeflate.threshold`).
    public static let defaultThreshold = 1024

    /// The valid permessage-deflate offers in a `Sec-WebSocket-Extensions` value, in the client's order of
    /// preference. Other extensions, and offers with unknown, repeated or out-of-range parameters, are
    /// skipped (RFC 7692 §7.1 says such an offer must be declined, which is what skipping does).
    public static func parseOffers(_ header: String) -> [PerMessageDeflateOffer] {
        WebSocketExtensionHeader.parse(header).compactMap { element in
            element.name == Self.extensionName ? PerMessageDeflateOffer(element) : nil
        }
    }

    /// Server side: accepts the first acceptable permessage-deflate offer in `offers` (the request's
    /// `Sec-WebSocket-Extensions` value), or returns nil to run without compression.
    public static func negotiate(
        offers header: String, configuration: PerMessageDeflateConfiguration
    ) -> PerMessageDeflateParameters? {
        for offer in Self.parseOffers(header) {
            if let accepted = Self.accept(offer, configuration: configuration) {
                return accepted
            }
        }
        return nil
    }

    /// Server side: the parameters for answering `offer` under `configuration` (always acceptable today,
    /// since every valid offer can be met; optional so that stricter policies can decline).
    public static func accept(
        _ offer: PerMessageDeflateOffer, configuration: PerMessageDeflateConfiguration
    ) -> PerMessageDeflateParameters? {
        var parameters = PerMessageDeflateParameters(
            compressionLevel: configuration.compressionLevel, memoryLevel: configuration.memoryLevel)
        // The client may demand that the server reset its context; the server may choose to anyway.
        parameters.serverNoContextTakeover = offer.serverNoContextTakeover || configuration.serverNoContextTakeover
        // The server may always ask the client to reset; echoing the client's own hint makes it binding,
        // which costs the client nothing since it announced it would do so.
        parameters.clientNoContextTakeover = offer.clientNoContextTakeover || configuration.clientNoContextTakeover

        let serverLimit = Self.clampWindowBits(configuration.serverMaxWindowBits)
        if let requested = offer.serverMaxWindowBits {
            // Accepting the parameter means answering it with the same or a smaller value.
            parameters.serverMaxWindowBits = min(requested, serverLimit)
        } else if serverLimit < 15 {
            parameters.serverMaxWindowBits = serverLimit
        }

        // client_max_window_bits may appear in the response only if the client offered it.
        if offer.clientMaxWindowBitsOffered {
            let clientLimit = Self.clampWindowBits(configuration.clientMaxWindowBits)
            let offered = offer.clientMaxWindowBits ?? 15
            if clientLimit < offered {
                parameters.clientMaxWindowBits = clientLimit
            } else if offer.clientMaxWindowBits != nil {
                parameters.clientMaxWindowBits = offered
            }
        }
        return parameters
    }

    /// Client side: the `Sec-WebSocket-Extensions` value offering permessage-deflate under `configuration`.
    ///
    /// It always offers `client_max_window_bits`, which lets the server limit the client's window, and
    /// requests the server-side limits the configuration asks for.
    public static func clientOffer(configuration: PerMessageDeflateConfiguration) -> String {
        var value = Self.extensionName
        if configuration.serverNoContextTakeover { value += "; server_no_context_takeover" }
        if configuration.clientNoContextTakeover { value += "; client_no_context_takeover" }
        let serverLimit = Self.clampWindowBits(configuration.serverMaxWindowBits)
        if serverLimit < 15 { value += "; server_max_window_bits=\(serverLimit)" }
        let clientLimit = Self.clampWindowBits(configuration.clientMaxWindowBits)
        value += clientLimit < 15 ? "; client_max_window_bits=\(clientLimit)" : "; client_max_window_bits"
        return value
    }

    /// Client side: checks the server's `Sec-WebSocket-Extensions` response to an offer made with
    /// `clientOffer(configuration:)`.
    ///
    /// - Returns: the parameters to use, or nil when the server did not accept compression.
    /// - Throws: when the response is malformed, names an extension that was not offered, or does not
    ///   honour what the client required; the client must then fail the connection (RFC 6455 §4.1).
    public static func parseServerResponse(
        _ header: String?, configuration: PerMessageDeflateConfiguration
    ) throws(PerMessageDeflateNegotiationError) -> PerMessageDeflateParameters? {
        guard let header else { return nil }
        guard let elements = WebSocketExtensionHeader.parseStrictly(header) else { throw .malformedHeader }
        guard let element = elements.first else { return nil }
        guard elements.count == 1 else { throw .tooManyExtensions }
        guard element.name == Self.extensionName else { throw .unexpectedExtension(element.name) }
        guard let response = PerMessageDeflateOffer(element), !response.clientMaxWindowBitsOffered
            || response.clientMaxWindowBits != nil
        else { throw .invalidParameters }

        if configuration.serverNoContextTakeover && !response.serverNoContextTakeover {
            throw .requirementNotHonoured
        }
        let serverLimit = Self.clampWindowBits(configuration.serverMaxWindowBits)
        if serverLimit < 15 {
            guard let granted = response.serverMaxWindowBits, granted <= serverLimit else {
                throw .requirementNotHonoured
            }
        }

        var parameters = PerMessageDeflateParameters(
            compressionLevel: configuration.compressionLevel, memoryLevel: configuration.memoryLevel)
        parameters.serverNoContextTakeover = response.serverNoContextTakeover
        parameters.serverMaxWindowBits = response.serverMaxWindowBits
        // The client may always be stricter with itself than the server asked.
        parameters.clientNoContextTakeover = response.clientNoContextTakeover || configuration.clientNoContextTakeover
        let clientLimit = Self.clampWindowBits(configuration.clientMaxWindowBits)
        let clientBits = min(response.clientMaxWindowBits ?? 15, clientLimit)
        parameters.clientMaxWindowBits = clientBits < 15 ? clientBits : response.clientMaxWindowBits
        return parameters
    }

    /// Keeps a configured window size within the 8...15 range the protocol allows.
    static func clampWindowBits(_ bits: Int) -> Int {
        min(15, max(8, bits))
    }
}

/// A server's compression policy, or a client's wishes, for permessage-deflate.
///
/// Window bits trade memory for compression: a deflate stream costs about 2^(windowBits+2) +
/// 2^(memoryLevel+9) bytes and an inflate stream about 2^windowBits, per connection, for as long as
/// context takeover keeps them alive. A server with many connections may want
/// `serverNoContextTakeover` and smaller windows.
public struct PerMessageDeflateConfiguration: Sendable, Hashable {
    /// Server: reset the server's compression context after every message it sends. Client: ask the
    /// server to do so (and refuse a server that does not agree).
    public var serverNoContextTakeover: Bool
    /// Server: ask the client to reset its context after every message. Client: reset anyway.
    public var clientNoContextTakeover: Bool
    /// The largest LZ77 window (8...15) for what the server sends. Server: its own limit. Client: the
    /// limit requested of the server when below 15.
    public var serverMaxWindowBits: Int
    /// The largest LZ77 window (8...15) for what the client sends. Server: the limit asked of clients that
    /// allow it. Client: its own limit.
    public var clientMaxWindowBits: Int
    /// zlib compression level: -1 (zlib's default, 6), or 0 (store) to 9 (best).
    public var compressionLevel: Int32
    /// zlib memLevel (1...9): memory for the compressor's hash table versus speed and ratio.
    public var memoryLevel: Int32

    /// Creates a configuration; the defaults give full windows and context takeover, zlib's defaults.
    public init(
        serverNoContextTakeover: Bool = false, clientNoContextTakeover: Bool = false,
        serverMaxWindowBits: Int = 15, clientMaxWindowBits: Int = 15, compressionLevel: Int32 = -1,
        memoryLevel: Int32 = 8
    ) {
        self.serverNoContextTakeover = serverNoContextTakeover
        self.clientNoContextTakeover = clientNoContextTakeover
        self.serverMaxWindowBits = serverMaxWindowBits
        self.clientMaxWindowBits = clientMaxWindowBits
        self.compressionLevel = compressionLevel
        self.memoryLevel = memoryLevel
    }
}

/// One valid permessage-deflate element of a `Sec-WebSocket-Extensions` header: a client's offer, or
/// (client side) a server's response, which uses the same parameters.
public struct PerMessageDeflateOffer: Sendable, Hashable {
    /// `server_no_context_takeover` is present.
    public var serverNoContextTakeover: Bool = false
    /// `client_no_context_takeover` is present.
    public var clientNoContextTakeover: Bool = false
    /// The value of `server_max_window_bits`, or nil when absent.
    public var serverMaxWindowBits: Int?
    /// `client_max_window_bits` is present (with or without a value): in an offer, the client supports
    /// being limited by the server.
    public var clientMaxWindowBitsOffered: Bool = false
    /// The value of `client_max_window_bits`, or nil when absent or given without a value.
    public var clientMaxWindowBits: Int?

    /// Creates an offer with the given parameters.
    public init(
        serverNoContextTakeover: Bool = false, clientNoContextTakeover: Bool = false,
        serverMaxWindowBits: Int? = nil, clientMaxWindowBitsOffered: Bool = false, clientMaxWindowBits: Int? = nil
    ) {
        self.serverNoContextTakeover = serverNoContextTakeover
        self.clientNoContextTakeover = clientNoContextTakeover
        self.serverMaxWindowBits = serverMaxWindowBits
        self.clientMaxWindowBitsOffered = clientMaxWindowBitsOffered || clientMaxWindowBits != nil
        self.clientMaxWindowBits = clientMaxWindowBits
    }

    /// Reads a parsed element's parameters, or returns nil when the element is not a valid
    /// permessage-deflate element: unknown or repeated parameters, a value on a flag, a missing or
    /// out-of-range window size (RFC 7692 §7.1).
    public init?(_ element: WebSocketExtensionHeader.Element) {
        var seen = Set<String>()
        for parameter in element.parameters {
            guard seen.insert(parameter.name).inserted else { return nil }
            switch parameter.name {
            case "server_no_context_takeover":
                guard parameter.value == nil else { return nil }
                self.serverNoContextTakeover = true
            case "client_no_context_takeover":
                guard parameter.value == nil else { return nil }
                self.clientNoContextTakeover = true
            case "server_max_window_bits":
                guard let value = parameter.value, let bits = Self.windowBits(value) else { return nil }
                self.serverMaxWindowBits = bits
            case "client_max_window_bits":
                self.clientMaxWindowBitsOffered = true
                if let value = parameter.value {
                    guard let bits = Self.windowBits(value) else { return nil }
                    self.clientMaxWindowBits = bits
                }
            default:
                return nil
            }
        }
    }

    /// Parses a window size: a decimal 8...15 without leading zeros, as the RFC's ABNF requires.
    private static func windowBits(_ text: String) -> Int? {
        guard let first = text.utf8.first, first != UInt8(ascii: "0"),
            text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let bits = Int(text), (8...15).contains(bits)
        else { return nil }
        return bits
    }
}

/// Negotiated permessage-deflate parameters, as they appear in (or follow from) the server's response.
public struct PerMessageDeflateParameters: Sendable, Hashable {
    /// The server resets its compression context after each message.
    public var serverNoContextTakeover: Bool
    /// The client resets its compression context after each message.
    public var clientNoContextTakeover: Bool
    /// The server's window limit as stated in the response (nil: not stated, i.e. 15).
    public var serverMaxWindowBits: Int?
    /// The client's window limit as stated in the response (nil: not stated, i.e. 15).
    public var clientMaxWindowBits: Int?
    /// zlib level for this endpoint's compressor (not negotiated; carried from the configuration).
    public var compressionLevel: Int32
    /// zlib memLevel for this endpoint's compressor (not negotiated; carried from the configuration).
    public var memoryLevel: Int32

    /// Creates parameters.
    public init(
        serverNoContextTakeover: Bool = false, clientNoContextTakeover: Bool = false,
        serverMaxWindowBits: Int? = nil, clientMaxWindowBits: Int? = nil, compressionLevel: Int32 = -1,
        memoryLevel: Int32 = 8
    ) {
        self.serverNoContextTakeover = serverNoContextTakeover
        self.clientNoContextTakeover = clientNoContextTakeover
        self.serverMaxWindowBits = serverMaxWindowBits
        self.clientMaxWindowBits = clientMaxWindowBits
        self.compressionLevel = compressionLevel
        self.memoryLevel = memoryLevel
    }

    /// The server's `Sec-WebSocket-Extensions` response value, e.g.
    /// `permessage-deflate; server_no_context_takeover; client_max_window_bits=10`.
    public var responseHeaderValue: String {
        var value = PerMessageDeflate.extensionName
        if self.serverNoContextTakeover { value += "; server_no_context_takeover" }
        if self.clientNoContextTakeover { value += "; client_no_context_takeover" }
        if let bits = self.serverMaxWindowBits { value += "; server_max_window_bits=\(bits)" }
        if let bits = self.clientMaxWindowBits { value += "; client_max_window_bits=\(bits)" }
        return value
    }

    /// Whether the endpoint that sends as `role` resets its context after each message.
    public func noContextTakeover(sender role: WebSocketRole) -> Bool {
        role == .server ? self.serverNoContextTakeover : self.clientNoContextTakeover
    }

    /// The window size (8...15) used by the endpoint that sends as `role`.
    public func windowBits(sender role: WebSocketRole) -> Int {
        PerMessageDeflate.clampWindowBits((role == .server ? self.serverMaxWindowBits : self.clientMaxWindowBits) ?? 15)
    }

    /// The compressor for messages this endpoint (acting as `role`) sends.
    public func makeCompressor(role: WebSocketRole) -> PerMessageDeflateCompressor {
        PerMessageDeflateCompressor(
            windowBits: self.windowBits(sender: role), noContextTakeover: self.noContextTakeover(sender: role),
            level: self.compressionLevel, memoryLevel: self.memoryLevel)
    }

    /// The decompressor for messages this endpoint (acting as `role`) receives from its peer.
    public func makeDecompressor(role: WebSocketRole) -> PerMessageDeflateDecompressor {
        let peer: WebSocketRole = role == .server ? .client : .server
        return PerMessageDeflateDecompressor(
            windowBits: self.windowBits(sender: peer), noContextTakeover: self.noContextTakeover(sender: peer))
    }
}

/// Why a client rejects a server's permessage-deflate response.
public enum PerMessageDeflateNegotiationError: Error, Sendable, Hashable {
    /// The header does not parse.
    case malformedHeader
    /// The server accepted an extension that was not offered.
    case unexpectedExtension(String)
    /// The server answered with more than one extension.
    case tooManyExtensions
    /// The permessage-deflate parameters are invalid.
    case invalidParameters
    /// The server did not accept a parameter the client required.
    case requirementNotHonoured
}
