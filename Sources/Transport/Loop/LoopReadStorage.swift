/// The read storage one event loop lends to the connection it is reading, so that reads consumed whole do
/// not allocate: a small one for ordinary reads and, while large reads keep coming, a large one.
///
/// Reads are sorted by size before any byte is copied: a read that fits the small storage gets it even while
/// a large one is kept, so one large message does not leave every later read of the loop in large storage
/// (a WebSocket reads text in place, without a copy, only from small storage: a handler that keeps the slice
/// keeps the storage). The large storage is dropped after `largeIdleReads` reads in a row did without it:
/// large messages that keep coming reuse it, rare ones cost one allocation each, and an idle loop holds at
/// most the small storage. Loop thread only (the loop owns it).
package struct LoopReadStorage {
    /// Capacity of the small storage, at most: reads up to `smallReadLimit` bytes go there. Inlinable, so that
    /// another module reads a constant (a `static let` there is a lazy global: a `swift_once` per read).
    @inlinable package static var smallCapacity: Int { 4096 }
    /// The most bytes a read may bring to get the small storage; below `smallCapacity` because malloc
    /// rounds a request up, and the storage must stay within `smallCapacity` (see `takeSmall`).
    static let smallReadLimit = smallCapacity - 64
    /// Storage larger than this is freed rather than kept.
    static let maxLargeCapacity = 64 * 1024
    /// Reads in a row that did without the large storage before it is freed.
    static let largeIdleReads = 64

    private var small: [UInt8] = []
    private var large: [UInt8] = []
    /// Reads since the large storage was last lent out.
    private var readsWithoutLarge = 0

    /// Lends `buffer` (empty, without storage) the storage suited to a read of `count` bytes, if one is kept.
    mutating func lend(into buffer: inout ByteBuffer, forReadOf count: Int) {
        if count <= Self.smallReadLimit {
            if self.small.capacity == 0 {
                // Sized once for every small read: no regrowth from read to read, and never past the limit.
                self.small.reserveCapacity(Self.smallReadLimit)
            }
            swap(&buffer.storage, &self.small)
            if self.large.capacity > 0 {
                self.readsWithoutLarge += 1
                if self.readsWithoutLarge >= Self.largeIdleReads { self.large = [] }
            }
        } else {
            self.readsWithoutLarge = 0
            if self.large.capacity == 0 {
                // Clearly above the small capacity, so that it comes back to this slot (and is reused).
                self.large.reserveCapacity(max(count, 2 * Self.smallCapacity))
            }
            swap(&buffer.storage, &self.large)
        }
        buffer.readerIndex = 0
    }

    /// Takes the storage of an emptied read buffer back (leaving the buffer without storage) into the slot its
    /// capacity fits, when that slot is free; otherwise the storage is freed.
    mutating func reclaim(from buffer: inout ByteBuffer) {
        var storage: [UInt8] = []
        swap(&storage, &buffer.storage)
        buffer.readerIndex = 0
        let capacity = storage.capacity
        // A read consumed whole arrives empty already (the buffer clears itself when its last byte is read):
        // clearing again costs ~55 instructions per read for nothing. A handler may still share the storage
        // (a slice it kept); the next append then makes a private copy.
        if capacity <= Self.smallCapacity {
            // Only storage sized for every small read: a smaller one would regrow past the limit.
            guard self.small.capacity == 0, capacity >= Self.smallReadLimit else { return }
            if !storage.isEmpty { storage.removeAll(keepingCapacity: true) }
            self.small = storage
        } else if capacity <= Self.maxLargeCapacity, self.large.capacity == 0 {
            if !storage.isEmpty { storage.removeAll(keepingCapacity: true) }
            self.large = storage
            self.readsWithoutLarge = 0
        }
    }

    /// Capacities of the small and the large storage kept now (0 for none), for tests.
    var keptCapacities: (small: Int, large: Int) { (self.small.capacity, self.large.capacity) }
}
