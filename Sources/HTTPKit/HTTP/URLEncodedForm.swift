/// `application/x-www-form-urlencoded` request bodies (the WHATWG URL standard's format).
public enum URLEncodedForm {
    /// The media type, for Content-Type checks and building requests.
    public static let mediaType = "application/x-www-form-urlencoded"

    /// Parses a form body. Bytes are handled as UTF-8 (what browsers send for UTF-8 pages); the decoding
    /// rules and their leniency are those of `QueryParameters(parsing:)`.
    public static func parse(_ body: some Collection<UInt8>) -> QueryParameters {
        QueryParameters(parsing: String(decoding: body, as: UTF8.self))
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
