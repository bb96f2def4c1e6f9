import Redis
import SocketIO

/// Connection state recovery kept in Redis, so that a client can come back on any node: each session of a
/// disconnected socket is a key `K-session#N#pid` that expires after `maxDisconnectionDuration` (`SET … PX`),
/// and the broadcasts of the namespace are a list `K-packets#N#` trimmed to `maxStoredPackets` whose
/// expiry is pushed back on each broadcast. Entries are MessagePack maps.
struct RedisRecoveryStore: Sendable {
    let client: RedisClient
    let options: ConnectionStateRecoveryOptions
    let sessionPrefix: String
    let packetsKey: String

    init(client: RedisClient, options: ConnectionStateRecoveryOptions, key: String, namespace: String) {
        self.client = client
        self.options = options
        self.sessionPrefix = key + "-session#" + namespace + "#"
        self.packetsKey = key + "-packets#" + namespace + "#"
    }

    /// Appends a broadcast (`arguments` = `[event, ...args, offset]`). Sent before the broadcast's PUBLISH on
    /// the same connection, so the list is in the order the other nodes deliver in.
    func record(offset: String, arguments: [JSONValue], target: SocketBroadcastOptions) {
        let entry = RedisPayload.messagePack([
            ("o", .string(offset)),
            ("r", .array(target.rooms.sorted().map(JSONValue.string))),
            ("e", .array(target.except.sorted().map(JSONValue.string))),
            ("d", .array(arguments)),
        ])
        self.client.send(["RPUSH", RedisArgument(self.packetsKey), RedisArgument(entry)], completion: nil)
        self.client.send(["LTRIM", RedisArgument(self.packetsKey), RedisArgument(-max(1, self.options.maxStoredPackets)), -1],
                         completion: nil)
        self.client.send(["PEXPIRE", RedisArgument(self.packetsKey), RedisArgument(max(1, self.options.maxDisconnectionDuration))],
                         completion: nil)
    }

    /// Keeps `session` until it is restored or expires.
    func persist(_ session: SocketSession) {
        let entry = RedisPayload.messagePack([
            ("id", .string(session.id)),
            ("pid", .string(session.pid)),
            ("rooms", .array(session.rooms.sorted().map(JSONValue.string))),
            ("data", RedisSocketDetails.json(of: session.data)),
        ])
        self.client.send(["SET", RedisArgument(self.sessionPrefix + session.pid), RedisArgument(entry),
                          "PX", RedisArgument(max(1, self.options.maxDisconnectionDuration))], completion: nil)
    }

    /// Takes the session (GETDEL: one node wins) and the broadcasts after `offset` that reached its rooms.
    func restore(pid: String, offset: String, completion: @escaping @Sendable (RecoveredSocketSession?) -> Void) {
        let packetsKey = self.packetsKey
        let client = self.client
        client.send(["GETDEL", RedisArgument(self.sessionPrefix + pid)]) { result in
            guard case .success(.bulkString(let bytes)) = result, let session = Self.session(bytes), session.pid == pid else {
                return completion(nil)
            }
            client.send(["LRANGE", RedisArgument(packetsKey), 0, -1]) { result in
                guard case .success(.array(let items)) = result else { return completion(nil) }
                completion(Self.missed(after: offset, in: items, session: session))
            }
        }
    }

    private static func missed(after offset: String, in items: [RESPValue], session: SocketSession) -> RecoveredSocketSession? {
        var found = false
        var missed: [[JSONValue]] = []
        for item in items {
            guard case .bulkString(let bytes) = item, let entry = try? RedisPayload.decode(bytes),
                  case .string(let entryOffset)? = entry["o"], case .array(let data)? = entry["d"] else { continue }
            if !found {
                found = entryOffset == offset
                continue
            }
            let target = SocketBroadcastOptions(rooms: Set(RedisTarget.strings(entry["r"])), except: Set(RedisTarget.strings(entry["e"])))
            if ConnectionStateRecovery.reaches(rooms: session.rooms, target: target) { missed.append(data) }
        }
        // An offset no longer in the list (trimmed or expired): the client connects as a new socket, as in Node.
        return found ? RecoveredSocketSession(session: session, missedPackets: missed) : nil
    }

    private static func session(_ bytes: [UInt8]) -> SocketSession? {
        guard let entry = try? RedisPayload.decode(bytes), case .string(let id)? = entry["id"],
              case .string(let pid)? = entry["pid"] else { return nil }
        var data = SocketData()
        for (name, value) in entry["data"]?.objectValue ?? JSONObject() { data[name] = Self.nativeValue(value) }
        return SocketSession(id: id, pid: pid, rooms: Set(RedisTarget.strings(entry["rooms"])), data: data)
    }

    /// Scalars come back as the Swift types `SocketDataKey`s usually name (String, Int, Double, Bool);
    /// arrays and objects stay `JSONValue`.
    private static func nativeValue(_ value: JSONValue) -> any Sendable {
        switch value {
        case .string(let text): return text
        case .int(let number): return Int(truncatingIfNeeded: number)
        case .double(let number): return number
        case .bool(let flag): return flag
        default: return value
        }
    }
}
