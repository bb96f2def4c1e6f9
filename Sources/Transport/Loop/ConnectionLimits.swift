import Glibc
import Synchronization

/// How many connections a listener keeps open at once, in all and from one address. A connection over a
/// limit is closed right after `accept` (with a reset, so that it costs the server no TIME_WAIT state),
/// before any byte of it is read: a flood then costs an accept and a close, not a parser and a timer.
public struct ConnectionLimits: Sendable {
    /// Most connections open at once; 0 means no limit.
    public var maxConnections: Int
    /// Most connections open at once from one client address (IPv4 address, or IPv6 /64 prefix, which is
    /// what one host is given); 0 means no limit. Many users behind one NAT share an address, so a site
    /// sets this well above what one browser opens (about 7: six HTTP connections and a WebSocket).
    public var maxConnectionsPerAddress: Int
    /// Whether loopback clients (127.0.0.0/8, ::1) are left out of the per-address limit: a reverse proxy
    /// on the same machine, and local tests and benchmarks, connect from there.
    public var exemptLoopback: Bool

    /// Limits as given; the defaults (0) mean no limit.
    public init(maxConnections: Int = 0, maxConnectionsPerAddress: Int = 0, exemptLoopback: Bool = true) {
        self.maxConnections = maxConnections
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
        self.exemptLoopback = exemptLoopback
    }

    /// No limit at all.
    public var isUnlimited: Bool { self.maxConnections <= 0 && self.maxConnectionsPerAddress <= 0 }

    /// Descriptors kept free for the process's own files (databases, uploads, logs, Redis, outgoing
    /// connections) by `fileDescriptorDefault`.
    public static let reservedDescriptors = 128

    /// The process-wide limit a server can live with: the soft `RLIMIT_NOFILE` less `reservedDescriptors`,
    /// so that a flood is refused cleanly before `accept` fails and before the process cannot open its own
    /// files. 0 (no limit) when the descriptor limit is unlimited.
    public static func fileDescriptorDefault() -> Int {
        var limit = rlimit()
        // RLIM_INFINITY is all ones.
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return 0 }
        return max(64, Int(clamping: limit.rlim_cur) - Self.reservedDescriptors)
    }
}

/// Counts the open connections of one listener, for every loop at once; `admit` on accept, `release` on close.
/// Accept and close are the only callers, so the lock is taken twice per connection, never per message.
public final class ConnectionAdmission: Sendable {
    /// The limits it enforces.
    public let limits: ConnectionLimits
    private let open = Atomic<Int>(0)
    private let perAddress = Mutex<[AddressKey: Int]>([:])
    private let refusedCount = Atomic<Int>(0)

    /// An admission that enforces `limits`.
    public init(limits: ConnectionLimits) {
        self.limits = limits
    }

    /// Connections admitted and not yet released.
    public var openConnections: Int { self.open.load(ordering: .relaxed) }

    /// Connections refused since start.
    public var refusedConnections: Int { self.refusedCount.load(ordering: .relaxed) }

    /// Takes a slot for a connection from `address`; nil when a limit is reached. The returned ticket is
    /// handed back to `release` when the connection closes.
    func admit(_ address: SocketAddress) -> AdmissionTicket? {
        let total = self.open.add(1, ordering: .relaxed).newValue
        if self.limits.maxConnections > 0 && total > self.limits.maxConnections {
            self.open.subtract(1, ordering: .relaxed)
            self.refusedCount.add(1, ordering: .relaxed)
            return nil
        }
        guard self.limits.maxConnectionsPerAddress > 0, let key = AddressKey(address),
              !(self.limits.exemptLoopback && key.isLoopback) else { return AdmissionTicket(key: nil) }
        let admitted = self.perAddress.withLock { counts -> Bool in
            let count = counts[key, default: 0]
            guard count < self.limits.maxConnectionsPerAddress else { return false }
            counts[key] = count + 1
            return true
        }
        guard admitted else {
            self.open.subtract(1, ordering: .relaxed)
            self.refusedCount.add(1, ordering: .relaxed)
            return nil
        }
        return AdmissionTicket(key: key)
    }

    /// Gives back the slot of a closed connection.
    func release(_ ticket: AdmissionTicket) {
        self.open.subtract(1, ordering: .relaxed)
        guard let key = ticket.key else { return }
        self.perAddress.withLock { counts in
            let remaining = counts[key, default: 1] - 1
            counts[key] = remaining > 0 ? remaining : nil
        }
    }
}

/// What a connection holds to give its slot back.
struct AdmissionTicket: Sendable {
    /// The address counted against the per-address limit; nil when none was.
    let key: AddressKey?
}

/// A client address as the per-address limit counts it: an IPv4 address (also when it arrives mapped into
/// IPv6 on a dual-stack listener), or the /64 prefix of an IPv6 address.
struct AddressKey: Hashable, Sendable {
    let high: UInt64
    let low: UInt64

    init?(_ address: SocketAddress) {
        var storage = address.storage
        switch address.family {
        case AF_INET:
            let ipv4 = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
            }
            self.init(ipv4: ipv4)
        case AF_INET6:
            let bytes = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                    withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
                }
            }
            let high = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let low = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            if high == 0 && low >> 32 == 0xffff {
                self.init(ipv4: UInt32(truncatingIfNeeded: low))
            } else if high == 0 && low == 1 {
                self.init(high: 0, low: 1)
            } else {
                self.init(high: high, low: 0)
            }
        default:
            return nil
        }
    }

    private init(ipv4: UInt32) {
        self.init(high: 0, low: 0xffff << 32 | UInt64(ipv4))
    }

    private init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// 127.0.0.0/8 or ::1.
    var isLoopback: Bool {
        self.high == 0 && (self.low == 1 || (self.low >> 32 == 0xffff && (self.low >> 24) & 0xff == 127))
    }
}
