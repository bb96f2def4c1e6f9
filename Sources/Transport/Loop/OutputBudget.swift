import CEngineIOShims
import Glibc
import Synchronization

/// A bound on the output that all the connections of an event loop group hold for peers that stopped
/// taking it (the process-wide budget, as a server runs one group).
///
/// Each loop counts the backlog of its own connections and publishes the sum in its slot; a loop adds the
/// slots up only when one of its connections is already behind, so a connection that keeps up pays nothing.
/// When the sum passes `limit`, the loop holding more than its share closes its largest backlogs first.
public final class OutputBudget: Sendable {
    private let limitBytes: Atomic<Int>
    private let slots: [Slot]

    /// One loop's published backlog.
    final class Slot: Sendable {
        let bytes = Atomic<Int>(0)
    }

    /// The default limit: 128 MiB, or a sixteenth of the machine's memory when that is less.
    public static var defaultLimit: Int {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        let sixteenth = pages > 0 && pageSize > 0 ? pages / 16 * pageSize : Int.max
        return min(128 << 20, sixteenth)
    }

    /// A budget shared by `loopCount` loops.
    init(loopCount: Int, limit: Int = OutputBudget.defaultLimit) {
        self.limitBytes = Atomic(limit)
        self.slots = (0..<max(1, loopCount)).map { _ in Slot() }
    }

    /// Most bytes all connections may hold for slow peers together; 0 or less means no limit.
    public var limit: Int {
        get { self.limitBytes.load(ordering: .relaxed) }
        set { self.limitBytes.store(newValue, ordering: .relaxed) }
    }

    /// The backlog of every loop, as last published.
    public var totalBytes: Int { self.slots.reduce(0) { $0 + $1.bytes.load(ordering: .relaxed) } }

    func slot(_ index: Int) -> Slot { self.slots[index % self.slots.count] }

    /// Makes glibc give large freed buffers (128 KiB and up) straight back to the system, for servers. By
    /// default it raises that threshold after the first large free and keeps later ones in its heap, so the
    /// output buffers of connections closed for not reading would stay in the process's resident memory.
    /// Process-wide; buffers that size are rare on the per-message path.
    public static func returnLargeBuffersToTheSystem() {
        _ = ceio_set_mmap_threshold(128 * 1024)
    }

    /// The part of the limit that one loop may hold before it sheds its own connections.
    var share: Int { self.limit / self.slots.count }
}
