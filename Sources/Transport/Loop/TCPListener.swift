import CEngineIOShims
import Glibc

/// How a listener of several loops shares new connections among them.
public enum ConnectionSpread: Sendable {
    /// One socket watched by every loop with EPOLLEXCLUSIVE: the kernel wakes a loop that waits, so an idle
    /// server gives most connections to one loop (one run: 472 of 503) and a busy one to whichever is free.
    /// Less CPU per message on a machine with other work (fewer, fuller wakeups), less parallelism.
    case firstWaitingLoop
    /// One socket per loop bound with SO_REUSEPORT: the kernel hashes connections evenly over the loops.
    case evenHash
}

/// Listening sockets for a group of loops: one shared socket, or one per loop (see `ConnectionSpread`).
public final class TCPListener: @unchecked Sendable {
    // Invariant for @unchecked Sendable: `address` is immutable after init; the per-loop acceptors are
    // touched on their own loop only, and `acceptors` is written in init and `close` only.
    /// The bound address; with port 0 this holds the port the kernel chose.
    public let address: SocketAddress
    private let group: EventLoopGroup
    private var acceptors: [Acceptor] = []
    /// Whether accepted connections speak TLS.
    public let isSecure: Bool
    /// The open connections and the limits they are held to.
    public let admission: ConnectionAdmission

    /// Binds and listens on `host:port`. `onAccept` runs on the loop that accepted the connection, before
    /// it receives any event; set `connection.handler` there. With `tls`, every connection is a TLS server
    /// endpoint: its handler reads and writes plaintext. Connections over `limits` are closed unread.
    public init(host: String, port: Int, group: EventLoopGroup, backlog: Int32 = 4096, tls: TLSServerContext? = nil,
                limits: ConnectionLimits = ConnectionLimits(), spread: ConnectionSpread = .firstWaitingLoop,
                onAccept: @escaping @Sendable (TCPConnection) -> Void) throws(EventLoopError) {
        let requested = try SocketAddress.resolve(host: host, port: port)
        let loops = group.loops
        let perLoop = spread == .evenHash && loops.count > 1
        var fds: [Int32] = []
        var bound = requested
        do {
            if perLoop {
                // A socket without SO_REUSEPORT first: it fails on a port already in use, as a single socket
                // would, instead of silently sharing the port with another process of this user. It also
                // picks the port when 0 was asked for.
                let probe = try Self.listeningSocket(requested, reusePort: false, backlog: nil)
                bound = Self.localAddress(probe)
                Glibc.close(probe)
            }
            for _ in 0..<(perLoop ? loops.count : 1) {
                let fd = try Self.listeningSocket(bound, reusePort: perLoop, backlog: backlog)
                fds.append(fd)
                if fds.count == 1 { bound = Self.localAddress(fd) }
            }
        } catch {
            for fd in fds { Glibc.close(fd) }
            throw error
        }
        self.address = bound
        self.group = group
        self.isSecure = tls != nil
        let admission = ConnectionAdmission(limits: limits)
        self.admission = admission
        // A shared socket is closed by the last loop to let go of it.
        let holders = perLoop ? nil : SharedCounter(loops.count)
        let watchers = perLoop ? nil : SharedCounter(0)
        for (index, loop) in loops.enumerated() {
            let acceptor = Acceptor(fd: fds[perLoop ? index : 0], exclusive: !perLoop, holders: holders,
                                    watchers: watchers, loop: loop, placement: perLoop ? nil : group, tls: tls,
                                    admission: limits.isUnlimited ? nil : admission, onAccept: onAccept)
            self.acceptors.append(acceptor)
            loop.execute { acceptor.start() }
        }
    }

    /// A bound, listening (when `backlog` is given), non-blocking socket.
    private static func listeningSocket(_ address: SocketAddress, reusePort: Bool, backlog: Int32?) throws(EventLoopError) -> Int32 {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw EventLoopError.system("socket", errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if reusePort { setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size)) }
        // Accepted sockets inherit TCP_NODELAY from the listener on Linux: set once here, not per connection
        // (one system call less for each new one).
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if address.family == AF_INET6 {
            // "::" serves IPv4 too, as people expect from a dual-stack wildcard.
            var zero: Int32 = 0
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &zero, socklen_t(MemoryLayout<Int32>.size))
        }
        var storage = address.storage
        let bound = withUnsafePointer(to: &storage) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, address.length) }
        }
        guard bound == 0 else {
            let err = errno
            Glibc.close(fd)
            throw EventLoopError.system("bind \(address)", err)
        }
        if let backlog, listen(fd, backlog) != 0 {
            let err = errno
            Glibc.close(fd)
            throw EventLoopError.system("listen", err)
        }
        return fd
    }

    private static func localAddress(_ fd: Int32) -> SocketAddress {
        var actual = SocketAddress(storage: sockaddr_storage(), length: socklen_t(MemoryLayout<sockaddr_storage>.size))
        _ = withUnsafeMutablePointer(to: &actual.storage) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &actual.length) }
        }
        return actual
    }

    /// Stops accepting on every loop and closes the sockets.
    public func close() {
        let acceptors = self.acceptors
        self.acceptors = []
        for acceptor in acceptors {
            acceptor.loop.execute { acceptor.shut() }
        }
    }
}

/// The per-loop half of a listener.
private final class Acceptor: EventLoopHandler, @unchecked Sendable {
    // Invariant: touched on `loop` only (created elsewhere, then only used through loop.execute).
    let fd: Int32
    /// The socket is shared with the other loops (woken with EPOLLEXCLUSIVE); `holders` counts the loops
    /// still holding it. Nil holders: this loop's own socket.
    let exclusive: Bool
    let holders: SharedCounter?
    /// How many loops watch the shared socket now; a loop steps aside only while another one watches.
    let watchers: SharedCounter?
    let loop: EventLoop
    /// Picks the loop that owns a connection this one accepted (`loopForNewConnection`); nil: this loop.
    let placement: EventLoopGroup?
    let onAccept: @Sendable (TCPConnection) -> Void
    let tls: TLSServerContext?
    /// Nil when there is no limit: nothing is counted then.
    let admission: ConnectionAdmission?
    private var active = false
    private var closed = false
    private var backoff: LoopTimer?

    init(fd: Int32, exclusive: Bool, holders: SharedCounter?, watchers: SharedCounter?, loop: EventLoop,
         placement: EventLoopGroup?, tls: TLSServerContext?, admission: ConnectionAdmission?,
         onAccept: @escaping @Sendable (TCPConnection) -> Void) {
        self.fd = fd
        self.exclusive = exclusive
        self.holders = holders
        self.watchers = watchers
        self.loop = loop
        self.placement = placement
        self.tls = tls
        self.admission = admission
        self.onAccept = onAccept
    }

    func start() {
        guard !self.active, !self.closed else { return }
        do {
            let events = EPOLLIN.rawValue | (self.exclusive ? EPOLLEXCLUSIVE.rawValue : 0)
            try self.loop.register(fd: self.fd, events: events, handler: self)
            self.active = true
            self.watchers?.increment()
        } catch {
            // The kernel keeps hashing connections to this loop's socket: try again in a moment rather than
            // leave them queued where nobody accepts.
            self.backoff = self.loop.schedule(afterMillis: 100) { [weak self] in self?.start() }
        }
    }

    /// Stops accepting and closes this loop's socket (a shared one once no loop holds it).
    func shut() {
        self.stop()
        guard !self.closed else { return }
        self.closed = true
        if let holders = self.holders, holders.decrement() != 0 { return }
        Glibc.close(self.fd)
    }

    func loopStopped() {
        self.shut()
    }

    func stop() {
        if let timer = self.backoff { self.loop.cancel(timer) }
        guard self.active else { return }
        self.active = false
        _ = self.watchers?.decrement()
        self.loop.deregister(fd: self.fd)
    }

    /// Placement sends new connections to another loop (`loopForNewConnection`): stop watching the shared
    /// socket for one placement window, so that the kernel wakes that loop for them instead of this one
    /// waking to hand each over (a wakeup of the target per connection). Never the last loop watching.
    /// True when this loop stepped aside.
    private func stepAside() -> Bool {
        guard self.active, let watchers = self.watchers, watchers.decrement(keepingAtLeast: 1) else { return false }
        self.active = false
        self.loop.deregister(fd: self.fd)
        let window = Int(LoopLoad.windowNanos / 1_000_000)
        self.backoff = self.loop.schedule(afterMillis: window) { [weak self] in self?.start() }
        return true
    }

    func handleEvents(_ mask: UInt32) {
        var handedAway = false
        var drainingAfterStep = false
        var budget = 64
        while budget > 0 {
            budget -= 1
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let client = withUnsafeMutablePointer(to: &storage) { ptr in
                ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    ceio_accept4(self.fd, $0, &length, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
                }
            }
            if client < 0 {
                let err = errno
                if err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM {
                    // Out of descriptors: stop watching for a moment instead of spinning on the ready socket.
                    self.stop()
                    self.backoff = self.loop.schedule(afterMillis: 100) { [weak self] in self?.start() }
                } else if handedAway, !drainingAfterStep, self.stepAside() {
                    // A connection that arrived between the last accept and the step aside woke this loop
                    // alone: take it (and any after it) once more, to the target.
                    drainingAfterStep = true
                    budget = 64
                    continue
                }
                return
            }
            let remote = SocketAddress(storage: storage, length: length)
            var ticket: AdmissionTicket?
            if let admission = self.admission {
                ticket = admission.admit(remote)
                guard ticket != nil else {
                    Self.refuse(client)
                    continue
                }
            }
            let target = self.placement?.loopForNewConnection(acceptedOn: self.loop) ?? self.loop
            if target === self.loop {
                self.adopt(client, remote: remote, ticket: ticket, on: target)
                continue
            }
            handedAway = true
            if !target.tryExecute({ [self, ticket] in self.adopt(client, remote: remote, ticket: ticket, on: target) }) {
                Glibc.close(client)
                if let admission = self.admission, let ticket { admission.release(ticket) }
            }
        }
    }

    /// Makes the accepted socket a connection of `loop` and starts it. On `loop`'s thread; uses only the
    /// acceptor's constants, so another loop than the acceptor's may run it.
    private func adopt(_ client: Int32, remote: SocketAddress, ticket: AdmissionTicket?, on loop: EventLoop) {
        let connection = TCPConnection(fd: client, loop: loop, remoteAddress: remote)
        if let admission = self.admission, let ticket { connection.admission = (admission, ticket) }
        if let tls = self.tls, !connection.beginTLS(tls) {
            Glibc.close(client)
            if let admission = self.admission, let ticket { admission.release(ticket) }
            return
        }
        self.onAccept(connection)
        do {
            try connection.start()
        } catch {
            connection.close(error: EBADF)
        }
    }

    /// Closes a connection over the limits with a reset: the client learns at once, and the server keeps
    /// no TIME_WAIT state for it.
    private static func refuse(_ client: Int32) {
        var abort = linger(l_onoff: 1, l_linger: 0)
        setsockopt(client, SOL_SOCKET, SO_LINGER, &abort, socklen_t(MemoryLayout<linger>.size))
        Glibc.close(client)
    }
}
