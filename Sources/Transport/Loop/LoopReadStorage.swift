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
    /// Capacity of the small storage, at most: reads up to `smallReadLimit` bytes go there.
    /// `WebSocketConnection.inPlaceCapacity` repeats it as a literal of its own (read from another module, this
    /// is a call or a lazy global on every read); a test keeps the two equal.
    package static let smallCapacity = 4096
    /// The most bytes a read may bring to get the small storage; below `smallCapacity` because malloc
    /// rounds a request up, and the storage must stay within `smallCapacity` (see `lend`). Literals, all of
    /// them: a constant computed from another is a lazy global, checked on every read.
    static let smallReadLimit = 4096 - 64
    /// Storage larger than this is freed rather than kept.
    static let maxLargeCapacity = 64 * 1024
    /// Reads in a row that did without the large storage before it is freed.
    static let largeIdleReads = 64

    private var small: [UInt8] = []
    private var large: [UInt8] = []
    /// Reads since the large storage was last lent out.
    private var readsWithoutLarge = 0

    /// Lends `buffer` (empty, without storage) the storage suited to a read of `count` bytes.
    mutating func lend(into buffer: inout ByteBuffer, forReadOf count: Int) {
        buffer.readerIndex = 0
        guard count <= Self.smallReadLimit else {
            self.lendLarge(into: &buffer, forReadOf: count)
            return
        }
        if self.small.capacity == 0 {
            // Sized once for every small read: no regrowth from read to read, and never past the limit.
            self.small.reserveCapacity(Self.smallReadLimit)
        }
        swap(&buffer.storage, &self.small)
        if self.large.capacity != 0 {
            self.readsWithoutLarge += 1
            if self.readsWithoutLarge >= Self.largeIdleReads { self.large = [] }
        }
    }

    @inline(never)
    private mutating func lendLarge(into buffer: inout ByteBuffer, forReadOf count: Int) {
        self.readsWithoutLarge = 0
        if self.large.capacity == 0 {
            // Clearly above the small capacity, so that it comes back to this slot (and is reused).
            self.large.reserveCapacity(max(count, 2 * Self.smallCapacity))
        }
        swap(&buffer.storage, &self.large)
    }

    /// Takes the storage of an emptied read buffer back (leaving the buffer without storage) into the slot its
    /// capacity fits, when that slot is free; otherwise the storage is freed.
    mutating func reclaim(from buffer: inout ByteBuffer) {
        buffer.readerIndex = 0
        let capacity = buffer.storage.capacity
        // Only storage sized for every small read goes to the small slot: a smaller one would regrow past the
        // limit.
        guard capacity <= Self.smallCapacity, capacity >= Self.smallReadLimit, self.small.capacity == 0 else {
            self.reclaimOther(from: &buffer)
            return
        }
        // A read consumed whole arrives empty already (the buffer clears itself when its last byte is read):
        // clearing again costs ~55 instructions per read for nothing. A handler may still share the storage
        // (a slice it kept); the next append then makes a private copy.
        if !buffer.storage.isEmpty { buffer.storage.removeAll(keepingCapacity: true) }
        // The buffer gets the slot's empty array: a swap, no retain or release.
        swap(&buffer.storage, &self.small)
    }

    @inline(never)
    private mutating func reclaimOther(from buffer: inout ByteBuffer) {
        let capacity = buffer.storage.capacity
        guard capacity > Self.smallCapacity, capacity <= Self.maxLargeCapacity, self.large.capacity == 0 else {
            buffer.storage = []
            return
        }
        if !buffer.storage.isEmpty { buffer.storage.removeAll(keepingCapacity: true) }
        swap(&buffer.storage, &self.large)
        self.readsWithoutLarge = 0
    }

    /// Capacities of the small and the large storage kept now (0 for none), for tests.
    var keptCapacities: (small: Int, large: Int) { (self.small.capacity, self.large.capacity) }
}
