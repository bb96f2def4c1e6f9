/// Why bytes from the server are not valid RESP. The connection that received them cannot be trusted to stay
/// in step and is closed.
public enum RESPDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A value started with a byte that is no RESP type.
    case unknownType(UInt8)
    /// A line that does not hold what its type requires (the kind of line is named).
    case malformedLine(String)
    /// A length or count below -1, or -1 where no null is allowed.
    case invalidLength(Int64)
    /// A bulk string longer than `Limits.maxBulkLength`.
    case bulkTooLong(Int64)
    /// An aggregate with more elements than `Limits.maxAggregateCount`.
    case countTooLarge(Int64)
    /// Aggregates nested deeper than `Limits.maxDepth`.
    case nestingTooDeep(Int)
    /// A line longer than `Limits.maxLineLength` without its CRLF.
    case lineTooLong
    /// A bulk string not followed by CRLF.
    case missingTerminator
    /// RESP3 streamed strings and aggregates (`$?`, `*?`), which Redis never sends.
    case streamedTypeUnsupported

    /// What was wrong, for logs.
    public var description: String {
        switch self {
        case .unknownType(let byte): return "unknown RESP type byte 0x\(String(byte, radix: 16))"
        case .malformedLine(let kind): return "malformed \(kind) line"
        case .invalidLength(let length): return "invalid length \(length)"
        case .bulkTooLong(let length): return "bulk string of \(length) bytes is over the limit"
        case .countTooLarge(let count): return "aggregate of \(count) elements is over the limit"
        case .nestingTooDeep(let depth): return "aggregates nested deeper than \(depth)"
        case .lineTooLong: return "line too long"
        case .missingTerminator: return "bulk string without CRLF"
        case .streamedTypeUnsupported: return "streamed RESP3 types are not supported"
        }
    }
}
