/// The header names the server itself looks at, recognised once per field when it is stored, so lookups
/// compare one byte instead of case-folding strings.
///
/// `other` is every name not in this list; those are still found, by comparing bytes without regard to case.
public enum HTTPHeaderName: UInt8, Sendable, CaseIterable {
    case other = 0
    case host, connection, upgrade, contentLength, transferEncoding, contentType, date, origin, cookie, expect
    case secWebSocketKey, secWebSocketVersion, secWebSocketExtensions, secWebSocketProtocol
    case xForwardedFor, xForwardedProto, accessControlRequestHeaders, acceptEncoding, range, ifRange
    case ifNoneMatch, ifModifiedSince, contentDisposition, authorization

    /// The name in lower case, as bytes (empty for `other`).
    var lowercased: [UInt8] { Self.lowercasedNames[Int(self.rawValue)] }

    private static let lowercasedNames: [[UInt8]] = Self.allCases.map { name in
        switch name {
        case .other: return []
        case .host: return Array("host".utf8)
        case .connection: return Array("connection".utf8)
        case .upgrade: return Array("upgrade".utf8)
        case .contentLength: return Array("content-length".utf8)
        case .transferEncoding: return Array("transfer-encoding".utf8)
        case .contentType: return Array("content-type".utf8)
        case .date: return Array("date".utf8)
        case .origin: return Array("origin".utf8)
        case .cookie: return Array("cookie".utf8)
        case .expect: return Array("expect".utf8)
        case .secWebSocketKey: return Array("sec-websocket-key".utf8)
        case .secWebSocketVersion: return Array("sec-websocket-version".utf8)
        case .secWebSocketExtensions: return Array("sec-websocket-extensions".utf8)
        case .secWebSocketProtocol: return Array("sec-websocket-protocol".utf8)
        case .xForwardedFor: return Array("x-forwarded-for".utf8)
        case .xForwardedProto: return Array("x-forwarded-proto".utf8)
        case .accessControlRequestHeaders: return Array("access-control-request-headers".utf8)
        case .acceptEncoding: return Array("accept-encoding".utf8)
        case .range: return Array("range".utf8)
        case .ifRange: return Array("if-range".utf8)
        case .ifNoneMatch: return Array("if-none-match".utf8)
        case .ifModifiedSince: return Array("if-modified-since".utf8)
        case .contentDisposition: return Array("content-disposition".utf8)
        case .authorization: return Array("authorization".utf8)
        }
    }

    /// Known names grouped by length (index = byte count), so recognising a name tries only same-length ones.
    private static let byLength: [[HTTPHeaderName]] = {
        var table = [[HTTPHeaderName]](repeating: [], count: 32)
        for name in Self.allCases where name != .other { table[name.lowercased.count].append(name) }
        return table
    }()

    /// The known name `bytes` spell (any ASCII case), or `other`.
    static func recognise(_ bytes: UnsafeBufferPointer<UInt8>) -> HTTPHeaderName {
        guard bytes.count < Self.byLength.count else { return .other }
        for candidate in Self.byLength[bytes.count] {
            let lower = Self.lowercasedNames[Int(candidate.rawValue)]
            var index = 0
            while index < bytes.count && ASCIICase.lower(bytes[index]) == lower[index] { index += 1 }
            if index == bytes.count { return candidate }
        }
        return .other
    }

    /// The known name `text` spells (any ASCII case), or `other`.
    static func recognise(_ text: String) -> HTTPHeaderName {
        var text = text
        return text.withUTF8 { self.recognise($0) }
    }
}
