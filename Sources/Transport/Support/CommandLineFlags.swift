import Foundation

/// Reads `--name value` / `--name=value` flags with environment-variable fallbacks, for our executables.
public struct CommandLineFlags: Sendable {
    private var values: [String: String] = [:]
    private var switches: Set<String> = []
    /// Arguments that are not flags.
    public private(set) var positional: [String] = []

    /// Parses `arguments` (without the program name). Flags named in `switchNames` take no value.
    public init(_ arguments: [String] = Array(CommandLine.arguments.dropFirst()), switchNames: Set<String> = ["help", "verbose"]) {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--") else {
                self.positional.append(argument)
                continue
            }
            let body = argument.dropFirst(2)
            if let equals = body.firstIndex(of: "=") {
                self.values[String(body[..<equals])] = String(body[body.index(after: equals)...])
            } else if switchNames.contains(String(body)) {
                self.switches.insert(String(body))
            } else if index < arguments.count {
                self.values[String(body)] = arguments[index]
                index += 1
            } else {
                self.switches.insert(String(body))
            }
        }
    }

    /// The flag's value, else the environment variable's, else nil.
    public func string(_ name: String, env: String? = nil) -> String? {
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
    public func has(_ name: String) -> Bool { self.switches.contains(name) || self.values[name] != nil }
}
