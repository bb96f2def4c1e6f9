/// Why a JSON text was rejected, and the byte offset where it went wrong.
public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of defect.
    public enum Kind: Sendable, Hashable {
        /// The input holds nothing but whitespace.
        case emptyInput
        /// The text stops in the middle of a value.
        case unexpectedEnd
        /// A byte that cannot start or continue a value here.
        case unexpectedCharacter(UInt8)
        /// A number that breaks JSON's number grammar (e.g. `01`, `1.`, `-`).
        case invalidNumber
        /// A backslash escape JSON does not define (e.g. `\x`).
        case invalidEscape
        /// A `\u` escape without four hex digits.
        case invalidUnicodeEscape
        /// A raw control character (U+0000–U+001F) inside a string.
        case controlCharacterInString
        /// Extra non-whitespace after the complete value.
        case trailingCharacters
        /// Arrays/objects nested deeper than the configured limit.
        case tooDeep
    }

    /// The kind of defect.
    public let kind: Kind
    /// Byte offset into the parsed input.
    public let offset: Int

    /// Creates an error; public so wrappers can re-raise with adjusted offsets.
    public init(_ kind: Kind, offset: Int) {
        self.kind = kind
        self.offset = offset
    }

    /// Human-readable summary.
    public var description: String {
        "JSON parse error \(kind) at byte \(offset)"
    }
}
