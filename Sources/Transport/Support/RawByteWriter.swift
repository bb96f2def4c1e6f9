/// Fills a fixed region of memory front to back, for encoders that know their output's length before they
/// write it (a frame built in stack memory, then queued with one copy). Every write is bounds-checked: an
/// encoder that writes more than it announced stops the process instead of writing past the region.
public struct RawByteWriter {
    @usableFromInline let base: UnsafeMutableRawPointer?
    @usableFromInline let capacity: Int
    @usableFromInline var written = 0

    /// A writer over `region`, which it fills from its start.
    @inlinable
    public init(_ region: UnsafeMutableRawBufferPointer) {
        self.base = region.baseAddress
        self.capacity = region.count
    }

    /// Bytes written so far (the next write goes there).
    @inlinable public var count: Int { self.written }

    /// Whether every byte of the region was written.
    @inlinable public var isFull: Bool { self.written == self.capacity }

    /// Writes one byte.
    @inlinable @inline(__always)
    public mutating func put(_ byte: UInt8) {
        precondition(self.written < self.capacity, "RawByteWriter: write past the end of its region")
        // `count < capacity` implies a region of at least one byte, so a base address.
        self.base.unsafelyUnwrapped.storeBytes(of: byte, toByteOffset: self.written, as: UInt8.self)
        self.written &+= 1
    }

    /// Writes `bytes`.
    @inlinable @inline(__always)
    public mutating func put(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        precondition(bytes.count <= self.capacity &- self.written, "RawByteWriter: write past the end of its region")
        (self.base.unsafelyUnwrapped + self.written).copyMemory(from: source, byteCount: bytes.count)
        self.written &+= bytes.count
    }

    /// Writes `bytes`.
    @inlinable @inline(__always)
    public mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.put(UnsafeRawBufferPointer(bytes))
    }

    /// Writes `bytes` (read in place).
    @inlinable
    public mutating func put(_ bytes: borrowing ArraySlice<UInt8>) {
        bytes.withUnsafeBytes { self.put($0) }
    }

    /// Writes the decimal digits of `value`, which must not be negative.
    @inlinable
    public mutating func putDecimal(_ value: Int) {
        precondition(value >= 0, "RawByteWriter: negative decimal")
        var digits = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        precondition(digits <= self.capacity &- self.written, "RawByteWriter: write past the end of its region")
        var left = value
        var index = self.written &+ digits
        let base = self.base.unsafelyUnwrapped
        repeat {
            index &-= 1
            base.storeBytes(of: 0x30 &+ UInt8(truncatingIfNeeded: left % 10), toByteOffset: index, as: UInt8.self)
            left /= 10
        } while left > 0
        self.written &+= digits
    }
}
