import CEngineIOShims
import Dispatch
import Glibc

/// Why an outgoing TCP connection could not be made.
public enum TCPConnectError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The host name did not resolve to any address (the `getaddrinfo` message is attached).
    case resolutionFailed(host: String, reason: String)
    /// Every resolved address refused or failed; carries the errno of the last attempt.
    case connectFailed(address: String, errno: Int32)
    /// No address answered within the timeout.
    case timedOut

    public var description: String {
        switch self {
        case .resolutionFailed(let host, let reason): return "cannot resolve \(host): \(reason)"
        case .connectFailed(let address, let code): return "connect to \(address) failed: \(String(cString: strerror(code)))"
        case .timedOut: return "connect timed out"
        }
    }
}

/// Opens outgoing TCP connections on an event loop: names are resolved off the loop (`getaddrinfo` may
/// block), numeric addresses on it; each resolved address is tried in turn with a non-blocking `connect`,
/// all within one overall timeout.
public enum TCPConnector {
    /// Connects to `host:port` and calls `completion` on `loop`'s thread with a started connection whose
    /// `handler` is still nil: set it inside `completion` (no event is delivered before it returns).
    ///
    /// `host` may be a name, an IPv4 address, or an IPv6 address with or without brackets. `source`, a
    /// numeric address of this machine, is the local address to connect from (its port chosen at connect):
    /// each source address has its own range of ephemeral ports, so many of them let one client machine open
    /// more connections to one server than a single address could.
    public static func connect(
        host: String, port: Int, source: String? = nil, on loop: EventLoop, timeoutMillis: Int = 10_000,
        _ completion: @escaping @Sendable (Result<TCPConnection, TCPConnectError>) -> Void
    ) {
        let sourceAddress: SocketAddress?
        switch source.map({ Self.resolve(host: $0, port: 0, numericOnly: true) }) {
        case nil:
            sourceAddress = nil
        case .success(let addresses)?:
            sourceAddress = addresses.first
        case .failure?:
            loop.execute { completion(.failure(.resolutionFailed(host: source ?? "", reason: "not a numeric source address"))) }
            return
        }
        let bareHost = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let deadline = monotonicNanos() &+ UInt64(max(1, timeoutMillis)) &* 1_000_000
        // Numeric addresses resolve without any lookup, so they need no thread hop. `execute` even on the
        // loop: the completion never runs inside the caller's own call.
        if case .success(let addresses) = Self.resolve(host: bareHost, port: port, numericOnly: true) {
            loop.execute {
                ConnectAttempt(loop: loop, addresses: addresses, source: sourceAddress, deadline: deadline, completion: completion).start()
            }
            return
        }
        DispatchQueue.global().async {
            let resolved = Self.resolve(host: bareHost, port: port, numericOnly: false)
            loop.execute {
                switch resolved {
                case .success(let addresses):
                    ConnectAttempt(loop: loop, addresses: addresses, source: sourceAddress, deadline: deadline, completion: completion).start()
                case .failure(let error):
                    completion(.failure(error))
                }
            }
        }
    }

    /// Every stream address of `host`, in the resolver's preferred order.
    static func resolve(host: String, port: Int, numericOnly: Bool) -> Result<[SocketAddress], TCPConnectError> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = numericOnly ? AI_NUMERICHOST : AI_ADDRCONFIG
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host.isEmpty ? "localhost" : host, String(port), &hints, &result)
        guard rc == 0, let first = result else {
            return .failure(.resolutionFailed(host: host, reason: String(cString: gai_strerror(rc))))
        }
        defer { freeaddrinfo(result) }
        var addresses: [SocketAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let sa = info.pointee.ai_addr {
                var address = SocketAddress(storage: sockaddr_storage(), length: info.pointee.ai_addrlen)
                withUnsafeMutableBytes(of: &address.storage) { dst in
                    dst.copyMemory(from: UnsafeRawBufferPointer(start: sa, count: Int(info.pointee.ai_addrlen)))
                }
                addresses.append(address)
            }
            cursor = info.pointee.ai_next
        }
        guard !addresses.isEmpty else { return .failure(.resolutionFailed(host: host, reason: "no addresses")) }
        return .success(addresses)
    }
}

/// One connection attempt over a list of addresses (TCP, or a unix socket path); lives on its loop until it
/// succeeds or gives up.
final class ConnectAttempt: EventLoopHandler, @unchecked Sendable {
    // Invariant for @unchecked Sendable: created and used on `loop`'s thread only.
    private let loop: EventLoop
    private var addresses: [SocketAddress]
    /// The local address to bind before connecting, nil for the kernel's choice.
    private let source: SocketAddress?
    private let deadline: UInt64
    private var completion: (@Sendable (Result<TCPConnection, TCPConnectError>) -> Void)?
    private var fd: Int32 = -1
    private var current: SocketAddress?
    private var timer: LoopTimer?
    private var lastError: TCPConnectError = .timedOut

    init(loop: EventLoop, addresses: [SocketAddress], source: SocketAddress? = nil, deadline: UInt64,
         completion: @escaping @Sendable (Result<TCPConnection, TCPConnectError>) -> Void) {
        self.loop = loop
        self.addresses = addresses
        self.source = source
        self.deadline = deadline
        self.completion = completion
    }

    func start() {
        let now = monotonicNanos()
        let remaining = self.deadline > now ? Int((self.deadline - now) / 1_000_000) : 0
        // The timer holds the attempt alive while epoll holds only an unowned registration.
        self.timer = self.loop.schedule(afterMillis: remaining) { [self] in
            self.abandonSocket()
            self.finish(.failure(.timedOut))
        }
        self.tryNext()
    }

    private func tryNext() {
        while !self.addresses.isEmpty {
            let address = self.addresses.removeFirst()
            self.current = address
            let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else {
                self.lastError = .connectFailed(address: address.description, errno: errno)
                continue
            }
            if address.family != AF_UNIX {
                var one: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            }
            if let source = self.source {
                guard source.family == address.family, Self.bind(fd, to: source) else {
                    let err = source.family == address.family ? errno : EAFNOSUPPORT
                    Glibc.close(fd)
                    self.lastError = .connectFailed(address: address.description, errno: err)
                    continue
                }
            }
            var storage = address.storage
            let rc = withUnsafePointer(to: &storage) { ptr in
                ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, address.length) }
            }
            let err = errno
            if rc == 0 {
                self.fd = fd
                self.connected()
                return
            }
            guard err == EINPROGRESS || err == EINTR else {
                Glibc.close(fd)
                self.lastError = .connectFailed(address: address.description, errno: err)
                continue
            }
            do {
                try self.loop.register(fd: fd, events: EPOLLOUT.rawValue, handler: self)
            } catch {
                Glibc.close(fd)
                self.lastError = .connectFailed(address: address.description, errno: EBADF)
                continue
            }
            self.fd = fd
            return
        }
        self.finish(.failure(self.lastError))
    }

    /// Binds `fd` to `source` with port 0, the port left to `connect` (IP_BIND_ADDRESS_NO_PORT): bound at
    /// once, a port could not be shared by connections to different servers.
    private static func bind(_ fd: Int32, to source: SocketAddress) -> Bool {
        var one: Int32 = 1
        let bindAddressNoPort: Int32 = 24  // IP_BIND_ADDRESS_NO_PORT, Linux 4.2
        setsockopt(fd, Int32(IPPROTO_IP), bindAddressNoPort, &one, socklen_t(MemoryLayout<Int32>.size))
        var storage = source.storage
        return withUnsafePointer(to: &storage) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, source.length) }
        } == 0
    }

    func handleEvents(_ mask: UInt32) {
        guard self.fd >= 0 else { return }
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(self.fd, SOL_SOCKET, SO_ERROR, &code, &length)
        self.loop.deregister(fd: self.fd)
        if code == 0 && mask & (EPOLLERR.rawValue | EPOLLHUP.rawValue) == 0 {
            self.connected()
            return
        }
        Glibc.close(self.fd)
        self.fd = -1
        self.lastError = .connectFailed(address: self.current?.description ?? "?", errno: code == 0 ? ECONNREFUSED : code)
        self.tryNext()
    }

    private func connected() {
        let fd = self.fd
        self.fd = -1
        let connection = TCPConnection(fd: fd, loop: self.loop, remoteAddress: self.current!)
        do {
            try connection.start()
        } catch {
            Glibc.close(fd)
            self.finish(.failure(.connectFailed(address: self.current!.description, errno: EBADF)))
            return
        }
        self.finish(.success(connection))
    }

    private func abandonSocket() {
        guard self.fd >= 0 else { return }
        self.loop.deregister(fd: self.fd)
        Glibc.close(self.fd)
        self.fd = -1
    }

    private func finish(_ result: Result<TCPConnection, TCPConnectError>) {
        if let timer = self.timer { self.loop.cancel(timer) }
        self.timer = nil
        guard let completion = self.completion else {
            if case .success(let connection) = result { connection.close() }
            return
        }
        self.completion = nil
        completion(result)
    }
}
