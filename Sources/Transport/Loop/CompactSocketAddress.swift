import Glibc

/// A socket address kept in 40 bytes instead of `SocketAddress`'s 136 (its `sockaddr_storage` is 128): every
/// connection stores its peer's, so the difference is paid once per idle connection. IPv4 and IPv6 addresses
/// (at most `sockaddr_in6`'s 28 bytes) are stored inline; longer ones (unix socket paths) go to a box.
struct CompactSocketAddress: Sendable {
    /// The first 28 bytes of the address.
    private var inline: (UInt64, UInt64, UInt64, UInt32) = (0, 0, 0, 0)
    private var length: socklen_t
    /// The whole address when it does not fit inline.
    private var spilled: Box?

    private final class Box: Sendable {
        let address: SocketAddress
        init(_ address: SocketAddress) { self.address = address }
    }

    private static var inlineCapacity: Int { MemoryLayout<(UInt64, UInt64, UInt64, UInt32)>.size }

    init(_ address: SocketAddress) {
        self.length = address.length
        guard Int(address.length) <= Self.inlineCapacity else {
            self.spilled = Box(address)
            return
        }
        var storage = address.storage
        withUnsafeMutableBytes(of: &self.inline) { dst in
            withUnsafeBytes(of: &storage) { src in
                dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[0..<Self.inlineCapacity]))
            }
        }
    }

    /// The address as it was given.
    var address: SocketAddress {
        if let spilled = self.spilled { return spilled.address }
        var address = SocketAddress(storage: sockaddr_storage(), length: self.length)
        var inline = self.inline
        withUnsafeMutableBytes(of: &address.storage) { dst in
            withUnsafeBytes(of: &inline) { src in
                UnsafeMutableRawBufferPointer(rebasing: dst[0..<Self.inlineCapacity]).copyMemory(from: src)
            }
        }
        return address
    }
}
