import Foundation
import HTTPKit
import SocketIO

/// A socket as a fetch response describes it: `{id, handshake, rooms, data}`, the handshake as Node's
/// `socket.handshake` (`headers, time, address, xdomain, secure, issued, url, query, auth`).
public struct RedisSocketDetails: Sendable, Hashable {
    /// The wire form.
    public let json: JSONValue

    /// Wraps a wire form.
    public init(json: JSONValue) {
        self.json = json
    }

    /// Describes a local socket as Node does.
    public init(_ snapshot: SocketSnapshot) {
        let handshake = snapshot.handshake
        let headers = JSONObject(RedisSocketDetails.nodeHeaders(handshake.headers).map { ($0.0, JSONValue.string($0.1)) })
        let query = JSONObject(handshake.query.pairs.map { ($0.name, JSONValue.string($0.value)) })
        let handshakeJSON = JSONValue.object(JSONObject([
            ("headers", .object(headers)),
            ("time", .string(RedisSocketDetails.javaScriptDateText(handshake.time))),
            ("address", .string(handshake.address)),
            ("xdomain", .bool(handshake.xdomain)),
            ("secure", .bool(handshake.secure)),
            ("issued", .int(handshake.issued)),
            ("url", .string(handshake.url)),
            ("query", .object(query)),
            ("auth", handshake.auth),
        ]))
        self.json = .object(JSONObject([
            ("id", .string(snapshot.id)),
            ("handshake", handshakeJSON),
            ("rooms", .array(RedisSocketDetails.roomOrder(snapshot).map(JSONValue.string))),
            ("data", RedisSocketDetails.json(of: snapshot.data)),
        ]))
    }

    /// The snapshot of the described socket; nil without an id.
    public var snapshot: SocketSnapshot? {
        guard let id = self.json["id"]?.stringValue else { return nil }
        let wire = self.json["handshake"]
        var headers = HTTPHeaders()
        for (name, value) in wire?["headers"]?.objectValue ?? JSONObject() {
            switch value {
            case .string(let text): headers.add(name, text)
            case .array(let values): for case .string(let text) in values { headers.add(name, text) }
            default: break
            }
        }
        let query = QueryParameters((wire?["query"]?.objectValue ?? JSONObject()).compactMap { entry in
            entry.value.stringValue.map { (entry.key, $0) }
        })
        let issued = wire?["issued"]?.int64Value ?? 0
        let handshake = SocketHandshake(
            headers: headers, time: Date(timeIntervalSince1970: Double(issued) / 1000),
            address: wire?["address"]?.stringValue ?? "", xdomain: wire?["xdomain"]?.boolValue ?? false,
            secure: wire?["secure"]?.boolValue ?? false, issued: issued, url: wire?["url"]?.stringValue ?? "",
            query: query, auth: wire?["auth"] ?? .object(JSONObject()))
        var data = SocketData()
        for (name, value) in self.json["data"]?.objectValue ?? JSONObject() { data[name] = value }
        return SocketSnapshot(id: id, handshake: handshake, rooms: Set(RedisTarget.strings(self.json["rooms"])),
                              data: data)
    }

    /// The socket's own room first (it joins it on connecting, so Node lists it first), then the others sorted.
    static func roomOrder(_ snapshot: SocketSnapshot) -> [String] {
        let others = snapshot.rooms.subtracting([snapshot.id]).sorted()
        return snapshot.rooms.contains(snapshot.id) ? [snapshot.id] + others : others
    }

    /// Header names lowercased and repeated fields joined with ", ", as Node's `request.headers` shows them.
    static func nodeHeaders(_ headers: HTTPHeaders) -> [(String, String)] {
        var result: [(String, String)] = []
        for field in headers {
            let name = field.name.lowercased()
            if let index = result.firstIndex(where: { $0.0 == name }) {
                result[index].1 += ", " + field.value
            } else {
                result.append((name, field.value))
            }
        }
        return result
    }

    /// `socket.data` as JSON: values that are JSON (or `Encodable`) under their names, sorted by name.
    static func json(of data: SocketData) -> JSONValue {
        var pairs: [(String, JSONValue)] = []
        for name in data.keys.sorted() {
            guard let value = data[name] else { continue }
            if let json = value as? JSONValue {
                pairs.append((name, json))
            } else if let encodable = value as? any Encodable, let json = try? JSONValue(encoding: encodable) {
                pairs.append((name, json))
            }
        }
        return .object(JSONObject(pairs))
    }

    /// `Date.prototype.toString()` of a server running in UTC: `Sun Dec 06 2026 21:55:53 GMT+0000 (Coordinated Universal Time)`.
    static func javaScriptDateText(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let parts = calendar.dateComponents([.weekday, .month, .day, .year, .hour, .minute, .second], from: date)
        let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int?) -> String {
            let value = value ?? 0
            return value < 10 ? "0\(value)" : "\(value)"
        }
        let weekday = weekdays[((parts.weekday ?? 1) - 1) % 7]
        let month = months[((parts.month ?? 1) - 1) % 12]
        let year = parts.year ?? 1970
        return "\(weekday) \(month) \(two(parts.day)) \(year) \(two(parts.hour)):\(two(parts.minute)):\(two(parts.second))"
            + " GMT+0000 (Coordinated Universal Time)"
    }
}
