/// `application/x-www-form-urlencoded` request bodies (the WHATWG URL standard's format).
public enum URLEncodedForm {
    /// The media type, for Content-Type checks and building requests.
    public static let mediaType = "application/x-www-form-urlencoded"

    /// Parses a form body. Bytes are handled as UTF-8 (what browsers send for UTF-8 pages); the decoding
    /// rules and their leniency are those of `QueryParameters(parsing:)`.
    public static func parse(_ body: [UInt8]) -> QueryParameters {
        // ASCII (what browsers send, non-ASCII being percent-encoded) needs no UTF-8 repair, so it is parsed
        // in place; other bytes are repaired to a String first, as the decoding rules require.
        let isASCII = body.allSatisfy { $0 < 0x80 }
        guard isASCII else { return QueryParameters(parsing: String(decoding: body, as: UTF8.self)) }
        return body.withUnsafeBufferPointer { QueryParameters(parsingValidUTF8: $0) }
    }

    /// Parses a form body from any byte collection.
    public static func parse(_ body: some Collection<UInt8>) -> QueryParameters {
        self.parse(Array(body))
    }

    /// Serializes pairs into a form body.
    public static func serialize(_ pairs: [(String, String)]) -> [UInt8] {
        Array(QueryParameters(pairs).encoded.utf8)
    }

    /// Whether a Content-Type value names this format (parameters such as `charset` are ignored).
    public static func matches(contentType: String?) -> Bool {
        guard let contentType else { return false }
        return HeaderValue(contentType).value.asciiCaseInsensitiveEquals(mediaType)
    }
}
