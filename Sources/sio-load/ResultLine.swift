import Foundation

/// One JSON object on one line, keys in insertion order, numbers with a fixed number of decimals (the
/// format of `sioload`'s result lines, so scripts read both generators alike).
struct ResultLine {
    private var fields: [String] = []

    mutating func add(_ key: String, _ value: String) {
        // Labels and names only; quotes and backslashes are refused when options are parsed.
        self.fields.append("\"\(key)\":\"\(value)\"")
    }

    mutating func add(_ key: String, _ value: Int) {
        self.fields.append("\"\(key)\":\(value)")
    }

    mutating func add(_ key: String, _ value: Double, decimals: Int) {
        let text = value.isFinite ? String(format: "%.\(decimals)f", value) : "-1"
        self.fields.append("\"\(key)\":\(text)")
    }

    var text: String { "{" + self.fields.joined(separator: ",") + "}" }
}
