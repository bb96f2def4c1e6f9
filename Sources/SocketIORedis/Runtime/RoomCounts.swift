import Synchronization

/// How many local sockets each room has, across every loop: the Redis receiver skips a room broadcast when
/// the room has no local member, and `allRooms` answers from it. Updated from the sockets' loops.
final class RoomCounts: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    func add(_ rooms: Set<String>) {
        guard !rooms.isEmpty else { return }
        self.counts.withLock { counts in
            for room in rooms { counts[room, default: 0] += 1 }
        }
    }

    func remove(_ rooms: Set<String>) {
        guard !rooms.isEmpty else { return }
        self.counts.withLock { counts in
            for room in rooms {
                guard let count = counts[room] else { continue }
                counts[room] = count > 1 ? count - 1 : nil
            }
        }
    }

    func contains(_ room: String) -> Bool {
        self.counts.withLock { $0[room] != nil }
    }

    var rooms: Set<String> {
        self.counts.withLock { Set($0.keys) }
    }
}
