/// Close status codes (RFC 6455 §7.4) and the rule for which of them may appear in a close frame.
///
/// Codes are plain `UInt16` values rather than a wrapper type so that codes the application invents
/// (3000-4999) need no conversion; this enum is only a namespace.
public enum WebSocketCloseCode {
    /// 1000: the purpose of the connection has been fulfilled.
    public static let normalClosure: UInt16 = 1000
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    public static let goingAway: UInt16 = 1001
    /// 1002: the peer broke the protocol.
    public static let protocolError: UInt16 = 1002
    /// 1003: the endpoint received a kind of data it cannot accept.
    public static let unsupportedData: UInt16 = 1003
    /// 1005: no code was present in the close frame. Never sent on the wire; reported locally only.
    public static let noStatusReceived: UInt16 = 1005
    /// 1006: the connection closed without a close frame. Never sent on the wire; reported locally only.
    public static let abnormalClosure: UInt16 = 1006
    /// 1007: message data was inconsistent with its type (e.g. invalid UTF-8 in a text message).
    public static let invalidPayloadData: UInt16 = 1007
    /// 1008: a message violated the endpoint's policy.
    public static let policyViolation: UInt16 = 1008
    /// 1009: a message was too big to process.
    public static let messageTooBig: UInt16 = 1009
    /// 1010: (client only) the server did not negotiate an extension the client requires.
    public static let mandatoryExtension: UInt16 = 1010
    /// 1011: the server hit an unexpected condition.
    public static let internalError: UInt16 = 1011

    /// Whether `code` may legitimately appear in a received close frame.
    ///
    /// Allowed: 1000-1003, 1007-1011 (the defined codes that may be sent), and 3000-4999 (registered and
    /// private-use codes). Everything else — 0-999, 1004-1006 (reserved or local-only), 1012-2999
    /// (unassigned in RFC 6455) and 5000+ — makes the receiver fail the connection with 1002.
    public static func isValidInCloseFrame(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1011, 3000...4999: return true
        default: return false
        }
    }
}
