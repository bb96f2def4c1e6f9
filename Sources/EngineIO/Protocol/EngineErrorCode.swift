/// The error codes an Engine.IO server answers rejected HTTP requests with.
///
/// Codes and messages are those of Node's engine.io (`Server.errors` / `Server.errorMessages`), because
/// clients and tests match on them.
public enum EngineErrorCode: Int, Sendable, Hashable, CaseIterable {
    /// The `transport` query parameter is missing or not enabled.
    case unknownTransport = 0
    /// The `sid` query parameter names no live session.
    case unknownSessionID = 1
    /// A handshake (request without `sid`) that is not a GET.
    case badHandshakeMethod = 2
    /// Any other malformed request.
    case badRequest = 3
    /// The application refused the request.
    case forbidden = 4
    /// The `EIO` query parameter is not a supported protocol revision.
    case unsupportedProtocolVersion = 5

    /// Node's message for this code.
    public var message: String {
        switch self {
        case .unknownTransport: return "Transport unknown"
        case .unknownSessionID: return "Session ID unknown"
        case .badHandshakeMethod: return "Bad handshake method"
        case .badRequest: return "Bad request"
        case .forbidden: return "Forbidden"
        case .unsupportedProtocolVersion: return "Unsupported protocol version"
        }
    }

    /// The HTTP status Node sends with this code: 403 for `forbidden`, 400 otherwise.
    public var httpStatus: Int { self == .forbidden ? 403 : 400 }

    /// The response body `{"code":N,"message":"..."}` as UTF-8 bytes.
    ///
    /// - Parameter message: replaces the standard message, as Node does when the application supplies one.
    public func jsonBytes(message: String? = nil) -> [UInt8] {
        var out: [UInt8] = []
        out.append(contentsOf: #"{"code":"#.utf8)
        out.append(contentsOf: String(self.rawValue).utf8)
        out.append(contentsOf: #","message":"#.utf8)
        JSONStringEscaping.appendQuoted(message ?? self.message, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The response body `{"code":N,"message":"..."}` as a `String`.
    public func json(message: String? = nil) -> String {
        String(decoding: self.jsonBytes(message: message), as: UTF8.self)
    }
}
