/// A header value of the form `main-value; name=value; name="quoted value"` (Content-Type,
/// Content-Disposition, one element of Accept-Encoding), split into its value and parameters.
public struct HeaderValue: Sendable {
    /// The part before the first `;`, trimmed (e.g. `multipart/form-data`).
    public var value: String
    /// Parameters in order; names as sent, values with quotes and escapes removed.
    public var parameters: [(name: String, value: String)]

    /// Parses one header value. Semicolons inside quoted strings do not split. Inside quotes a backslash
    /// escapes only `"` and `\`, so unescaped Windows paths in old browsers' filenames survive.
    public init(_ text: some StringProtocol) {
        let pieces = Self.split(Substring(text), on: ";")
        self.value = pieces.first.map { String($0.trimmingASCIISpaces()) } ?? ""
        self.parameters = []
        for piece in pieces.dropFirst() {
            let trimmed = piece.trimmingASCIISpaces()
            guard !trimmed.isEmpty else { continue }
            if let equals = trimmed.firstIndex(of: "=") {
                let name = trimmed[..<equals].trimmingASCIISpaces()
                let raw = trimmed[trimmed.index(after: equals)...].trimmingASCIISpaces()
                self.parameters.append((name: String(name), value: Self.unquote(raw)))
            } else {
                self.parameters.append((name: String(trimmed), value: ""))
            }
        }
    }

    /// Splits a list header (`gzip;q=1.0, br, *;q=0`) into its elements, respecting quotes.
    public static func list(_ text: some StringProtocol) -> [HeaderValue] {
        split(Substring(text), on: ",").compactMap { piece in
            piece.trimmingASCIISpaces().isEmpty ? nil : HeaderValue(piece)
        }
    }

    /// The value of parameter `name` (case-insensitive), or nil.
    public func parameter(_ name: String) -> String? {
        self.parameters.first { $0.name.asciiCaseInsensitiveEquals(name) }?.value
    }

    /// An RFC 8187 extended parameter (`filename*=UTF-8''na%C3%AFve.txt`) decoded, falling back to the
    /// plain parameter of the same name when the extended one is absent or not UTF-8.
    public func extendedParameter(_ name: String) -> String? {
        if let extended = self.parameter(name + "*") {
            let parts = extended.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
            if parts.count == 3, parts[0].asciiCaseInsensitiveEquals("utf-8") {
                return PercentDecoding.decode(parts[2])
            }
        }
        return self.parameter(name)
    }

    /// Splits on `separator` outside double quotes.
    static func split(_ text: Substring, on separator: Character) -> [Substring] {
        var pieces: [Substring] = []
        var start = text.startIndex
        var inQuotes = false
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if inQuotes && character == "\\" {
                let following = text.index(after: index)
                if following < text.endIndex { index = following }  // skip the escaped character
            } else if character == "\"" {
                inQuotes.toggle()
            } else if !inQuotes && character == separator {
                pieces.append(text[start..<index])
                start = text.index(after: index)
            }
            index = text.index(after: index)
        }
        pieces.append(text[start...])
        return pieces
    }

    /// Removes surrounding quotes and the escapes of a quoted-string; tokens come back unchanged.
    static func unquote(_ raw: Substring) -> String {
        guard raw.count >= 2, raw.first == "\"", raw.last == "\"" else { return String(raw) }
        let inner = raw.dropFirst().dropLast()
        var out = ""
        var index = inner.startIndex
        while index < inner.endIndex {
            let character = inner[index]
            if character == "\\" {
                let following = inner.index(after: index)
                if following < inner.endIndex, inner[following] == "\"" || inner[following] == "\\" {
                    out.append(inner[following])
                    index = inner.index(after: following)
                    continue
                }
            }
            out.append(character)
            index = inner.index(after: index)
        }
        return out
    }
}
