/// Incremental UTF-8 validation (RFC 3629) for text messages that arrive in pieces.
///
/// WebSocket text messages may be split into fragments at any byte, even inside a character, and a
/// receiver should fail the connection as soon as the bytes seen so far can no longer be the prefix of
/// valid UTF-8 (Autobahn's 6.x cases check this "fail fast" behaviour). So this is a small state machine
/// over bytes that rejects at the first impossible byte — overlong forms, UTF-16 surrogates (U+D800-DFFF)
/// and code points above U+10FFFF included — rather than a whole-string check at the end.
public struct UTF8Validator: Sendable, Hashable {
    /// Where the machine is within a character.
    @usableFromInline
    enum State: UInt8, Sendable {
        /// At a character boundary.
        case boundary
        /// One continuation byte (80-BF) left.
        case needs1
        /// Two continuation bytes left, the next one unrestricted.
        case needs2
        /// Three continuation bytes left, the next one unrestricted.
        case needs3
        /// After E0: the next byte must be A0-BF (lower would be an overlong 3-byte form).
        case afterE0
        /// After ED: the next byte must be 80-9F (higher would encode a surrogate).
        case afterED
        /// After F0: the next byte must be 90-BF (lower would be an overlong 4-byte form).
        case afterF0
        /// After F4: the next byte must be 80-8F (higher would exceed U+10FFFF).
        case afterF4
        /// An invalid byte was seen; sticky until `reset()`.
        case invalid
    }

    @usableFromInline var state: State = .boundary
    /// Bytes accepted so far (up to, not including, the first invalid byte).
    public private(set) var validatedCount: Int = 0

    /// Creates a validator at the start of a string.
    public init() {}

    /// False once an invalid byte has been seen.
    public var isValid: Bool { self.state != .invalid }

    /// True when everything so far is valid and ends on a character boundary, i.e. the bytes seen form a
    /// complete valid UTF-8 string. Check this at the end of a message.
    public var isComplete: Bool { self.state == .boundary }

    /// The offset (counted from the last `reset()`) of the first invalid byte, or nil while valid.
    public var failureOffset: Int? { self.state == .invalid ? self.validatedCount : nil }

    /// Forgets all state, ready for a new string.
    public mutating func reset() {
        self.state = .boundary
        self.validatedCount = 0
    }

    /// Feeds the next bytes.
    ///
    /// - Returns: false as soon as the bytes seen so far cannot be the start of valid UTF-8 (and on every
    ///   call after that); true otherwise, even when they end inside a character.
    @discardableResult
    public mutating func validate(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard self.state != .invalid else { return false }
        var state = self.state
        var index = 0
        let count = bytes.count
        while index < count {
            // Text is mostly ASCII: skip 8 ASCII bytes per step while at a character boundary.
            if state == .boundary {
                while count - index >= 8,
                    bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 == 0
                {
                    index += 8
                }
                if index == count { break }
                // An ASCII byte of the tail (fewer than 8 left) or before a non-ASCII one needs no transition.
                if bytes[index] < 0x80 {
                    index += 1
                    continue
                }
            }
            state = Self.step(state, bytes[index])
            if state == .invalid {
                self.state = .invalid
                self.validatedCount += index
                return false
            }
            index += 1
        }
        self.state = state
        self.validatedCount += count
        return true
    }

    /// Feeds the next bytes from any sequence (see `validate(_: UnsafeRawBufferPointer)`).
    @discardableResult
    public mutating func validate(_ bytes: some Sequence<UInt8>) -> Bool {
        if let result = bytes.withContiguousStorageIfAvailable({ self.validate(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { self.validate($0) }
    }

    /// Whether `bytes` is, as a whole, valid UTF-8.
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var validator = UTF8Validator()
        return validator.validate(bytes) && validator.isComplete
    }

    /// Whether `bytes` is complete, valid UTF-8.
    public static func isValid(_ bytes: some Sequence<UInt8>) -> Bool {
        var validator = UTF8Validator()
        return validator.validate(bytes) && validator.isComplete
    }

    /// The transition function.
    @inline(__always)
    @usableFromInline
    static func step(_ state: State, _ byte: UInt8) -> State {
        switch state {
        case .boundary:
            switch byte {
            case 0x00...0x7F: return .boundary
            // 80-BF cannot start a character; C0 and C1 could only start overlong 2-byte forms.
            case 0x80...0xC1: return .invalid
            case 0xC2...0xDF: return .needs1
            case 0xE0: return .afterE0
            case 0xED: return .afterED
            case 0xE1...0xEF: return .needs2
            case 0xF0: return .afterF0
            case 0xF1...0xF3: return .needs3
            case 0xF4: return .afterF4
            // F5-FF would encode beyond U+10FFFF (or are not UTF-8 at all).
            default: return .invalid
            }
        case .needs1:
            return Self.isContinuation(byte) ? .boundary : .invalid
        case .needs2:
            return Self.isContinuation(byte) ? .needs1 : .invalid
        case .needs3:
            return Self.isContinuation(byte) ? .needs2 : .invalid
        case .afterE0:
            return (0xA0...0xBF).contains(byte) ? .needs1 : .invalid
        case .afterED:
            return (0x80...0x9F).contains(byte) ? .needs1 : .invalid
        case .afterF0:
            return (0x90...0xBF).contains(byte) ? .needs2 : .invalid
        case .afterF4:
            return (0x80...0x8F).contains(byte) ? .needs2 : .invalid
        case .invalid:
            return .invalid
        }
    }

    @inline(__always)
    @usableFromInline
    static func isContinuation(_ byte: UInt8) -> Bool { byte & 0xC0 == 0x80 }
}
