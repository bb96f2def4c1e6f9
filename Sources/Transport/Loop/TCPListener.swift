import CEngineIOShims
import Glibc

/// A listening socket watched by every loop of a group; the kernel wakes one loop per new connection
/// (EPOLLEXCLUSIVE), which accepts it and keeps it. That spreads connections over the loops with no hand-off.
public final class TCPListener: @unchecked Sendable {
    // Invariant for @unchecked Sendable: `fd` and `address` are immutable after init; the per-loop
    // acceptors are touched on their own loop only.
    private let fd: Int32
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
                limits: ConnectionLimits = ConnectionLimits(), onAccept: @escaping @Sendable (TCPConnection) -> Void) throws(EventLoopError) {
        let requested = try SocketAddress.resolve(host: host, port: port)
        let fd = socket(requested.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw EventLoopError.system("socket", errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if requested.family == AF_INET6 {
            // "::" serves IPv4 too, as people expect from a dual-stack wildcard.
            var zero: Int32 = 0
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &zero, socklen_t(MemoryLayout<Int32>.size))
        }
        var storage = requested.storage
        let bound = withUnsafePointer(to: &storage) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, requested.length) }
        }
        guard bound == 0 else {
            let err = errno
            Glibc.close(fd)
            throw EventLoopError.system("bind \(requested)", err)
        }
        guard listen(fd, backlog) == 0 else {
            let err = errno
            Glibc.close(fd)
            throw EventLoopError.system("listen", err)
        }
        var actual = SocketAddress(storage: sockaddr_storage(), length: socklen_t(MemoryLayout<sockaddr_storage>.size))
        _ = withUnsafeMutablePointer(to: &actual.storage) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &actual.length) }
        }
        self.fd = fd
        self.address = actual
        self.group = group
        self.isSecure = tls != nil
        let admission = ConnectionAdmission(limits: limits)
        self.admission = admission
        for loop in group.loops {
            let acceptor = Acceptor(fd: fd, loop: loop, tls: tls, admission: limits.isUnlimited ? nil : admission,
                                    onAccept: onAccept)
            self.acceptors.append(acceptor)
            loop.execute { acceptor.start() }
        }
    }

    /// Stops accepting on every loop and closes the socket once they all let go of it.
    public func close() {
        let acceptors = self.acceptors
        self.acceptors = []
        let remaining = SharedCounter(acceptors.count)
        let fd = self.fd
        for acceptor in acceptors {
            acceptor.loop.execute {
                acceptor.stop()
                if remaining.decrement() == 0 { Glibc.close(fd) }
            }
        }
    }
}

/// The per-loop half of a listener.
private final class Acceptor: EventLoopHandler, @unchecked Sendable {
    // Invariant: touched on `loop` only (created elsewhere, then only used through loop.execute).
    let fd: Int32
    let loop: EventLoop
    let onAccept: @Sendable (TCPConnection) -> Void
    let tls: TLSServerContext?
    /// Nil when there is no limit: nothing is counted then.
    let admission: ConnectionAdmission?
    private var active = false
    private var backoff: LoopTimer?

    init(fd: Int32, loop: EventLoop, tls: TLSServerContext?, admission: ConnectionAdmission?,
         onAccept: @escaping @Sendable (TCPConnection) -> Void) {
        self.fd = fd
        self.loop = loop
        self.tls = tls
        self.admission = admission
        self.onAccept = onAccept
    }

    func start() {
        guard !self.active else { return }
        do {
            try self.loop.register(fd: self.fd, events: EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue, handler: self)
            self.active = true
        } catch {
            // Leave this loop out; the others still accept.
        }
    }

    func stop() {
        if let timer = self.backoff { self.loop.cancel(timer) }
        guard self.active else { return }
        self.active = false
        self.loop.deregister(fd: self.fd)
    }

    func handleEvents(_ mask: UInt32) {
        for _ in 0..<64 {
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
            var one: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let connection = TCPConnection(fd: client, loop: self.loop, remoteAddress: remote)
            if let admission = self.admission, let ticket { connection.admission = (admission, ticket) }
            if let tls = self.tls, !connection.beginTLS(tls) {
                Glibc.close(client)
                if let admission = self.admission, let ticket { admission.release(ticket) }
                continue
            }
            self.onAccept(connection)
            do {
                try connection.start()
            } catch {
                connection.close(error: EBADF)
            }
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
