/// Parsing of `Sec-WebSocket-Extensions` values (RFC 6455 §9.1).
///
/// Grammar: a comma-separated list of extensions, each a token followed by `; name[=value]` parameters,
/// where a value is a token or a quoted string. A client may offer the same extension several times
/// with different parameters (in order of preference), so elements are returned in order, duplicates
/// kept. Commas and semicolons inside quoted strings do not split.
public enum WebSocketExtensionHeader {
    /// One parameter of an extension element.
    public struct Parameter: Sendable, Hashable {
        /// The parameter name, lowercased (extension parameter names are case-insensitive tokens).
        public var name: String
        /// The value with quotes and escapes removed, or nil for a bare `name`.
        public var value: String?

        /// Creates a parameter.
        public init(name: String, value: String? = nil) {
            self.name = name
            self.value = value
        }
    }

    /// One extension element: a name and its parameters, in order.
    public struct Element: Sendable, Hashable {
        /// The extension name, lowercased.
        public var name: String
        /// The parameters in the order given.
        public var parameters: [Parameter]

        /// Creates an element.
        public init(name: String, parameters: [Parameter] = []) {
            self.name = name
            self.parameters = parameters
        }
    }

    /// Parses a header value, silently dropping malformed elements (a server only needs the offers it can
    /// understand; an unparseable one is simply not accepted).
    public static func parse(_ value: String) -> [Element] {
        Self.splitElements(value).compactMap { Self.parseElement($0) }
    }

    /// Parses a header value, returning nil if any element is malformed (for a client checking a
    /// server's response, where anything unexpected must fail the connection).
    public static func parseStrictly(_ value: String) -> [Element]? {
        var elements: [Element] = []
        for part in Self.splitElements(value) {
            guard let element = Self.parseElement(part) else { return nil }
            elements.append(element)
        }
        return elements
    }

    /// Splits at commas outside quoted strings, dropping empty elements (the `#` list rule allows them).
    private static func splitElements(_ value: String) -> [[UInt8]] {
        Self.split(Array(value.utf8), at: UInt8(ascii: ",")).filter { !Self.trim($0).isEmpty }
    }

    private static func parseElement(_ bytes: [UInt8]) -> Element? {
        let parts = Self.split(bytes, at: UInt8(ascii: ";"))
        guard let namePart = parts.first else { return nil }
        let name = Self.trim(namePart)
        guard Self.isToken(name) else { return nil }
        var parameters: [Parameter] = []
        for part in parts.dropFirst() {
            guard let parameter = Self.parseParameter(Self.trim(part)) else { return nil }
            parameters.append(parameter)
        }
        return Element(name: Self.lowercasedString(name), parameters: parameters)
    }

    private static func parseParameter(_ bytes: ArraySlice<UInt8>) -> Parameter? {
        guard let equals = bytes.firstIndex(of: UInt8(ascii: "=")) else {
            guard Self.isToken(bytes) else { return nil }
            return Parameter(name: Self.lowercasedString(bytes))
        }
        let name = Self.trim(bytes[bytes.startIndex..<equals])
        let rawValue = Self.trim(bytes[(equals + 1)...])
        guard Self.isToken(name) else { return nil }
        let value: [UInt8]
        if rawValue.first == UInt8(ascii: "\"") {
            guard let unquoted = Self.unquote(rawValue) else { return nil }
            value = unquoted
        } else {
            guard Self.isToken(rawValue) else { return nil }
            value = Array(rawValue)
        }
        return Parameter(name: Self.lowercasedString(name), value: String(decoding: value, as: UTF8.self))
    }

    /// Removes the quotes and backslash escapes of a quoted-string that spans all of `bytes`.
    private static func unquote(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        guard bytes.count >= 2, bytes.last == UInt8(ascii: "\"") else { return nil }
        var result: [UInt8] = []
        var index = bytes.startIndex + 1
        let end = bytes.endIndex - 1
        while index < end {
            var byte = bytes[index]
            if byte == UInt8(ascii: "\\") {
                index += 1
                guard index < end else { return nil }
                byte = bytes[index]
            } else if byte == UInt8(ascii: "\"") {
                return nil
            }
            result.append(byte)
            index += 1
        }
        return result
    }

    /// Splits at `separator` except inside quoted strings (honouring backslash escapes there).
    private static func split(_ bytes: some Collection<UInt8>, at separator: UInt8) -> [[UInt8]] {
        var parts: [[UInt8]] = []
        var current: [UInt8] = []
        var inQuotes = false
        var escaped = false
        for byte in bytes {
            if inQuotes {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inQuotes = false
                }
                current.append(byte)
            } else if byte == separator {
                parts.append(current)
                current = []
            } else {
                if byte == UInt8(ascii: "\"") { inQuotes = true }
                current.append(byte)
            }
        }
        parts.append(current)
        return parts
    }

    private static func trim(_ bytes: some Collection<UInt8>) -> ArraySlice<UInt8> {
        var slice = ArraySlice(bytes)
        while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 { slice = slice.dropLast() }
        return slice
    }

    /// RFC 7230 token: one or more tchar.
    private static func isToken(_ bytes: ArraySlice<UInt8>) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy(Self.isTokenCharacter)
    }

    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    private static func lowercasedString(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self).lowercased()
    }
}
