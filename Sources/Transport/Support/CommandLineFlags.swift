import Foundation

/// One flag an executable accepts, for parsing and for its `--help`: the name without `--`, the
/// placeholder of its value (nil for a switch such as `--verbose`), and one line of help.
public struct CommandLineFlag: Sendable {
    /// The name without the leading `--`.
    public let name: String
    /// The value's placeholder in `--help` (`MS`, `URL`), or nil when the flag takes no value.
    public let value: String?
    /// What the flag does, with its default.
    public let help: String

    /// Creates a flag; give `value` for a flag that takes one.
    public init(_ name: String, value: String? = nil, help: String) {
        self.name = name
        self.value = value
        self.help = help
    }

    /// `--help`, which every executable accepts.
    public static let help = CommandLineFlag("help", help: "this text")
}

/// Why a command line was refused. A typo must not start a server on a default port or send a worker to
/// the wrong place without a word, so nothing unknown is ignored.
public enum CommandLineFlagError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A `--name` the executable does not know.
    case unknownFlag(String)
    /// A flag that takes a value came last, or was followed by another flag.
    case missingValue(String)
    /// A switch given as `--name=value`.
    case unexpectedValue(String)
    /// An argument that is not a flag (`-port`, a stray word).
    case unexpectedArgument(String)

    public var description: String {
        switch self {
        case .unknownFlag(let name): return "unknown flag --\(name)"
        case .missingValue(let name): return "--\(name) needs a value"
        case .unexpectedValue(let name): return "--\(name) takes no value"
        case .unexpectedArgument(let argument): return "unexpected argument \"\(argument)\""
        }
    }
}

/// Reads `--name value` / `--name=value` flags with environment-variable fallbacks, for our executables.
///
/// Only the flags an executable declares are accepted; anything else is an error (exit status 2 through
/// `parseOrExit`).
public struct CommandLineFlags: Sendable {
    private var values: [String: String] = [:]
    private var switches: Set<String> = []
    private let declared: Set<String>

    /// Parses `arguments` (without the program name) against the flags `accepted` (`--help` is always
    /// accepted, and `-h` means `--help`).
    public init(_ arguments: [String], accepting accepted: [CommandLineFlag]) throws(CommandLineFlagError) {
        var takesValue: [String: Bool] = ["help": false]
        for flag in accepted { takesValue[flag.name] = flag.value != nil }
        self.declared = Set(takesValue.keys)
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "-h" {
                self.switches.insert("help")
                continue
            }
            guard argument.hasPrefix("--"), argument.count > 2 else { throw .unexpectedArgument(argument) }
            let body = argument.dropFirst(2)
            let name: String
            var value: String?
            if let equals = body.firstIndex(of: "=") {
                name = String(body[..<equals])
                value = String(body[body.index(after: equals)...])
            } else {
                name = String(body)
            }
            guard let needsValue = takesValue[name] else { throw .unknownFlag(name) }
            if !needsValue {
                guard value == nil else { throw .unexpectedValue(name) }
                self.switches.insert(name)
                continue
            }
            if value == nil {
                // A following flag is never taken as the value: `--host --port 80` lacks a host.
                guard index < arguments.count, !arguments[index].hasPrefix("--") else { throw .missingValue(name) }
                value = arguments[index]
                index += 1
            }
            self.values[name] = value
        }
    }

    /// Parses the process's arguments; on an error prints one line naming the flag and pointing to
    /// `--help` on stderr, and exits with status 2.
    public static func parseOrExit(
        program: String, accepting accepted: [CommandLineFlag],
        arguments: [String] = Array(CommandLine.arguments.dropFirst())
    ) -> CommandLineFlags {
        do {
            return try CommandLineFlags(arguments, accepting: accepted)
        } catch {
            FileHandle.standardError.write(Data("\(program): \(error) (see \(program) --help)\n".utf8))
            exit(2)
        }
    }

    /// The `--help` text: `synopsis`, then one line per flag (and `--help` itself).
    public static func usage(synopsis: String, flags: [CommandLineFlag]) -> String {
        let all = flags + [CommandLineFlag.help]
        let labels = all.map { flag in "--\(flag.name)" + (flag.value.map { " \($0)" } ?? "") }
        let width = (labels.map(\.count).max() ?? 0) + 2
        var text = synopsis + "\n"
        for (label, flag) in zip(labels, all) {
            let lines = flag.help.split(separator: "\n", omittingEmptySubsequences: false)
            text += "  " + label.padding(toLength: width, withPad: " ", startingAt: 0) + (lines.first ?? "") + "\n"
            for line in lines.dropFirst() { text += String(repeating: " ", count: width + 2) + line + "\n" }
        }
        return text
    }

    /// The flag's value, else the environment variable's, else nil.
    public func string(_ name: String, env: String? = nil) -> String? {
        assert(self.declared.contains(name), "--\(name) is read but not declared")
        if let value = self.values[name] { return value }
        if let env, let value = ProcessInfo.processInfo.environment[env], !value.isEmpty { return value }
        return nil
    }

    /// An integer flag; exits with a message when the value is not a number.
    public func int(_ name: String, env: String? = nil, default fallback: Int) -> Int {
        guard let text = self.string(name, env: env) else { return fallback }
        guard let value = Int(text) else {
            FileHandle.standardError.write(Data("--\(name) expects a whole number, got \"\(text)\"\n".utf8))
            exit(2)
        }
        return value
    }

    /// Whether a switch such as `--help` was given.
    public func has(_ name: String) -> Bool {
        assert(self.declared.contains(name), "--\(name) is read but not declared")
        return self.switches.contains(name) || self.values[name] != nil
    }
}
