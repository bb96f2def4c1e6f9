/// A growable byte buffer with a read cursor, used for socket input and codec work.
///
/// Codecs consume from the front (`moveReaderIndex`) and producers append at the back. Consumed bytes are
/// reclaimed lazily by `discardReadBytes()` so that parsing many small packets from one read does not
/// shift memory per packet.
public struct ByteBuffer: Sendable, Equatable {
    @usableFromInline var storage: [UInt8]
    @usableFromInline var readerIndex: Int

    /// An empty buffer.
    @inlinable public init() {
        self.storage = []
        self.readerIndex = 0
    }

    /// A buffer holding `bytes`.
    @inlinable public init(bytes: some Sequence<UInt8>) {
        self.storage = Array(bytes)
        self.readerIndex = 0
    }

    /// A buffer holding the UTF-8 of `string`.
    @inlinable public init(string: String) {
        self.storage = Array(string.utf8)
        self.readerIndex = 0
    }

    /// Number of bytes not yet consumed.
    @inlinable public var readableBytes: Int { self.storage.count - self.readerIndex }

    /// Whether nothing is left to read.
    @inlinable public var isEmpty: Bool { self.readableBytes == 0 }

    /// The unread bytes as a slice (indices are positions in the underlying storage).
    @inlinable public var readableView: ArraySlice<UInt8> { self.storage[self.readerIndex...] }

    /// A copy of the unread bytes.
    @inlinable public var readableArray: [UInt8] { Array(self.storage[self.readerIndex...]) }

    /// The unread byte at `offset` from the reader index, or nil past the end.
    @inlinable public func peek(at offset: Int) -> UInt8? {
        let index = self.readerIndex + offset
        return index < self.storage.count ? self.storage[index] : nil
    }

    /// Appends one byte.
    @inlinable public mutating func append(_ byte: UInt8) { self.storage.append(byte) }

    /// Appends `bytes`.
    @inlinable public mutating func append(contentsOf bytes: some Sequence<UInt8>) {
        self.storage.append(contentsOf: bytes)
    }

    /// Appends the bytes `bytes` points to.
    @inlinable public mutating func append(contentsOf bytes: UnsafeRawBufferPointer) {
        // As typed bytes: appending raw bytes copies them one at a time, typed ones with one memcpy.
        bytes.withMemoryRebound(to: UInt8.self) { self.storage.append(contentsOf: $0) }
    }

    /// Appends the UTF-8 of `string`.
    @inlinable public mutating func append(string: String) {
        self.storage.append(contentsOf: string.utf8)
    }

    /// Marks `count` bytes as consumed.
    @inlinable public mutating func moveReaderIndex(forwardBy count: Int) {
        precondition(count >= 0 && count <= self.readableBytes, "reader index out of range")
        self.readerIndex += count
        if self.readerIndex == self.storage.count {
            self.storage.removeAll(keepingCapacity: true)
            self.readerIndex = 0
        }
    }

    /// Consumes and returns the next `count` bytes, or nil if fewer are readable.
    @inlinable public mutating func readBytes(_ count: Int) -> [UInt8]? {
        guard count <= self.readableBytes else { return nil }
        let bytes = Array(self.storage[self.readerIndex..<(self.readerIndex + count)])
        self.moveReaderIndex(forwardBy: count)
        return bytes
    }

    /// Consumes everything readable.
    @inlinable public mutating func readAll() -> [UInt8] {
        let bytes = self.readableArray
        self.clear()
        return bytes
    }

    /// Empties the buffer, keeping its capacity.
    @inlinable public mutating func clear() {
        self.storage.removeAll(keepingCapacity: true)
        self.readerIndex = 0
    }

    /// Gives back the memory of consumed bytes once they dominate the buffer.
    @inlinable public mutating func discardReadBytes() {
        guard self.readerIndex > 0 else { return }
        if self.readerIndex >= 4096 && self.readerIndex * 2 >= self.storage.count {
            self.storage.removeSubrange(0..<self.readerIndex)
            self.readerIndex = 0
        }
    }

    /// Drops the storage entirely when empty, so idle connections hold no buffer memory.
    @inlinable public mutating func releaseIfEmpty() {
        if self.readableBytes == 0 {
            self.storage = []
            self.readerIndex = 0
        }
    }

    /// Calls `body` with the unread bytes.
    @inlinable public func withReadableBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try self.storage.withUnsafeBytes { raw in
            try body(UnsafeRawBufferPointer(rebasing: raw[self.readerIndex...]))
        }
    }

    /// Calls `body` with the unread bytes, which it may change in place (a WebSocket reader unmasks a frame
    /// where it lies). Storage shared with a slice taken earlier is copied first, so that slice never changes.
    @inlinable public mutating func withUnsafeMutableReadableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        let start = self.readerIndex
        return try self.storage.withUnsafeMutableBytes { raw in
            try body(UnsafeMutableRawBufferPointer(rebasing: raw[start...]))
        }
    }

    /// Index in `readableView` of the first unread byte.
    @inlinable public var readableStartIndex: Int { self.readerIndex }

    /// The unread bytes at `range` (indices as in `readableView`), sharing the storage.
    @inlinable public func readableView(_ range: Range<Int>) -> ArraySlice<UInt8> {
        precondition(range.lowerBound >= self.readerIndex && range.upperBound <= self.storage.count, "range out of the readable bytes")
        return self.storage[range]
    }

    /// How many bytes the storage holds without growing: what a slice of `readableView` keeps alive.
    @inlinable public var storageCapacity: Int { self.storage.capacity }

    public static func == (lhs: ByteBuffer, rhs: ByteBuffer) -> Bool {
        lhs.readableView.elementsEqual(rhs.readableView)
    }
}
