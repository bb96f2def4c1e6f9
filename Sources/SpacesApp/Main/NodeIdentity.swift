import Foundation

/// The node's id in a cluster, kept in the data folder (`node-id`): a node restarted after a crash comes back
/// under the same id and so releases at once the requests its previous run held, instead of waiting for the
/// reaper. Every node needs a data folder of its own.
enum NodeIdentity {
    /// The id stored in `directory`, made and stored on first use.
    static func loadOrCreate(directory: String) -> String {
        let path = directory + "/node-id"
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            let id = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if !id.isEmpty && id.count <= 64 && id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) {
                return id
            }
        }
        let id = "node-" + SecureRandom.token(byteCount: 6)
        try? Data((id + "\n").utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        return id
    }

    /// `host:port` other nodes' admins see for this node.
    static func address(host: String, port: Int) -> String {
        let name = host == "0.0.0.0" || host == "::" || host.isEmpty ? ProcessInfo.processInfo.hostName : host
        return "\(name):\(port)"
    }
}
