import Foundation

/// Log lines on stderr (stdout is reserved for the start-up lines scripts read).
enum Log {
    nonisolated(unsafe) static var verbose = false

    static func info(_ message: @autoclosure () -> String) {
        FileHandle.standardError.write(Data("spaces: \(message())\n".utf8))
    }

    static func debug(_ message: @autoclosure () -> String) {
        if self.verbose { self.info(message()) }
    }
}
