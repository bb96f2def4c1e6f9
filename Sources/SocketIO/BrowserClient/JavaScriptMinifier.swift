/// A small, conservative JavaScript minifier: removes comments and the whitespace that cannot matter, and
/// leaves everything else (names, strings, regular expressions, template literals) as written.
///
/// Safe for scripts written with explicit semicolons (ours): a line break is dropped only where automatic
/// semicolon insertion cannot apply (after `{ ( [ , ; : = & | ?`, or before `} ) ] , ; . : ?`), otherwise
/// kept as one `\n`. Spaces go where a punctuator sits on either side, except between `+ +`, `- -`, `/ /`,
/// `/ *` (which would merge into another operator or a comment) and after `/` before a name (regex flags).
public enum JavaScriptMinifier {
    /// The minified text of `source` (UTF-8); non-ASCII bytes are copied unchanged.
    public static func minify(_ source: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(source.count / 2)
        var index = 0
        var pendingSpace = false
        var pendingNewline = false
        // The last significant byte written and whether it ended a word (decides whether `/` is a regex).
        func lastByte() -> UInt8? { out.last }

        func flushWhitespace(before next: UInt8) {
            defer { pendingSpace = false; pendingNewline = false }
            guard let previous = lastByte(), pendingSpace || pendingNewline else { return }
            if pendingNewline {
                if Self.newlineDroppableAfter.contains(previous) || Self.newlineDroppableBefore.contains(next) { return }
                out.append(UInt8(ascii: "\n"))
                return
            }
            if Self.needsSpace(previous, next) { out.append(UInt8(ascii: " ")) }
        }

        while index < source.count {
            let byte = source[index]
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), 0x0B, 0x0C:
                pendingSpace = true
                index += 1
            case UInt8(ascii: "\n"):
                pendingNewline = true
                index += 1
            case UInt8(ascii: "/") where index + 1 < source.count && source[index + 1] == UInt8(ascii: "/"):
                while index < source.count && source[index] != UInt8(ascii: "\n") { index += 1 }
            case UInt8(ascii: "/") where index + 1 < source.count && source[index + 1] == UInt8(ascii: "*"):
                let start = index
                index += 2
                while index + 1 < source.count && !(source[index] == UInt8(ascii: "*") && source[index + 1] == UInt8(ascii: "/")) {
                    index += 1
                }
                if source[start..<min(index, source.count)].contains(UInt8(ascii: "\n")) { pendingNewline = true } else { pendingSpace = true }
                index = min(index + 2, source.count)
            case UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "`"):
                flushWhitespace(before: byte)
                index = Self.copyQuoted(source, from: index, quote: byte, into: &out)
            case UInt8(ascii: "/") where Self.startsRegex(after: out):
                flushWhitespace(before: byte)
                index = Self.copyRegex(source, from: index, into: &out)
            default:
                flushWhitespace(before: byte)
                out.append(byte)
                index += 1
            }
        }
        return out
    }

    private static let punctuators = Set("{}()[];,:=<>?!&|*+-%~^/".utf8)
    private static let newlineDroppableAfter = Set("{([,;:=&|?".utf8)
    private static let newlineDroppableBefore = Set("})],;.:?".utf8)
    private static let regexAfter = Set("(,=:[!&|?{};+-*%<>~^".utf8)

    private static func needsSpace(_ previous: UInt8, _ next: UInt8) -> Bool {
        if previous == next && (previous == UInt8(ascii: "+") || previous == UInt8(ascii: "-")) { return true }
        // `a / /re/` and `/re/ * 2` must not become a comment, nor `/re/ in x` a regex with flags "in".
        if previous == UInt8(ascii: "/") && (next == UInt8(ascii: "/") || next == UInt8(ascii: "*") || Self.isWordByte(next)) {
            return true
        }
        return !(self.punctuators.contains(previous) || self.punctuators.contains(next))
    }

    /// A `/` starts a regular expression after an operator or an opening bracket, at the start, or after
    /// a keyword such as `return` (never after a name, a number or a closing bracket: that is a division).
    private static func startsRegex(after out: [UInt8]) -> Bool {
        guard let previous = out.last else { return true }
        if self.regexAfter.contains(previous) || previous == UInt8(ascii: "\n") { return true }
        for keyword in ["return", "typeof", "case", "in", "of", "void"] {
            let bytes = Array(keyword.utf8)
            if out.count >= bytes.count && Array(out.suffix(bytes.count)) == bytes {
                let before = out.count > bytes.count ? out[out.count - bytes.count - 1] : UInt8(ascii: " ")
                if !Self.isWordByte(before) { return true }
            }
        }
        return false
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        byte >= 0x80 || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "$")
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }

    /// Copies a string or template literal with its escapes; returns the index after its closing quote.
    private static func copyQuoted(_ source: [UInt8], from start: Int, quote: UInt8, into out: inout [UInt8]) -> Int {
        self.copyLiteral(source, from: start, into: &out) { $0 == quote }
    }

    /// Copies a regular expression literal (with `[...]` classes, where `/` does not end it) and its flags.
    private static func copyRegex(_ source: [UInt8], from start: Int, into out: inout [UInt8]) -> Int {
        var inClass = false
        var index = self.copyLiteral(source, from: start, into: &out) { byte in
            if byte == UInt8(ascii: "[") { inClass = true } else if byte == UInt8(ascii: "]") { inClass = false }
            // A line break: not a regex after all; stop copying verbatim at the line's end.
            return (byte == UInt8(ascii: "/") && !inClass) || byte == UInt8(ascii: "\n")
        }
        while index < source.count && Self.isWordByte(source[index]) {
            out.append(source[index])
            index += 1
        }
        return index
    }

    /// Copies from `start` (the opening delimiter) through the first unescaped byte for which `ends` is true.
    private static func copyLiteral(_ source: [UInt8], from start: Int, into out: inout [UInt8],
                                    ends: (UInt8) -> Bool) -> Int {
        var index = start
        out.append(source[index])
        index += 1
        while index < source.count {
            let byte = source[index]
            out.append(byte)
            index += 1
            if byte == UInt8(ascii: "\\"), index < source.count {
                out.append(source[index])
                index += 1
            } else if ends(byte) {
                break
            }
        }
        return index
    }
}
