/// A command argument: bytes, or text (sent as UTF-8), or an integer (sent in decimal).
public struct RedisArgument: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    enum Storage: Sendable {
        case bytes([UInt8])
        case text(String)
        case integer(Int)
    }

    let storage: Storage

    /// Binary-safe bytes.
    public init(_ bytes: [UInt8]) { self.storage = .bytes(bytes) }
    /// Text, sent as UTF-8.
    public init(_ text: String) { self.storage = .text(text) }
    /// A number, sent in decimal.
    public init(_ number: Int) { self.storage = .integer(number) }
    /// A string literal, sent as UTF-8.
    public init(stringLiteral value: String) { self.storage = .text(value) }
    /// An integer literal, sent in decimal.
    public init(integerLiteral value: Int) { self.storage = .integer(value) }
}
