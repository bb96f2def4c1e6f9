import Foundation
import SocketIO

/// The captures of Node's cluster in Tests/CompatFixtures/redis-adapter (see its README).
enum RedisFixtures {
    /// One captured Redis command.
    struct Message: Sendable, CustomStringConvertible {
        let file: String
        let index: Int
        let command: String
        let client: String
        let channel: String
        let payload: [UInt8]
        let args: [String]
        let decoded: JSONValue
        var description: String { "\(self.file)#\(self.index) \(self.command) \(self.channel)" }
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../CompatFixtures/redis-adapter").standardized

    static var fileNames: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".json") }.sorted()
    }

    static func file(_ name: String) throws -> JSONValue {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        return try JSONParser.parse([UInt8](data))
    }

    static func messages(_ name: String) throws -> [Message] {
        let root = try self.file(name)
        return (root["messages"]?.arrayValue ?? []).enumerated().map { index, message in
            Message(file: name, index: index, command: message["command"]?.stringValue ?? "",
                    client: message["client"]?.stringValue ?? "", channel: message["channel"]?.stringValue ?? "",
                    payload: self.bytes(hex: message["payload_hex"]?.stringValue ?? ""),
                    args: (message["args"]?.arrayValue ?? []).compactMap(\.stringValue),
                    decoded: message["decoded"] ?? .null)
        }
    }

    /// Every PUBLISH of every file.
    static func publishes() throws -> [Message] {
        try self.fileNames.flatMap { try self.messages($0) }.filter { $0.command == "PUBLISH" }
    }

    static func bytes(hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return result
    }

    /// The fixture's `decoded` form with `{"$bin_hex": ...}` turned back into bytes.
    static func restoringBinary(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let object):
            if object.count == 1, let hex = object["$bin_hex"]?.stringValue { return .binary(self.bytes(hex: hex)) }
            return .object(JSONObject(object.entries.map { ($0.key, self.restoringBinary($0.value)) }))
        case .array(let elements):
            return .array(elements.map(self.restoringBinary))
        default:
            return value
        }
    }
}
