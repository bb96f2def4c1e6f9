import CEngineIOShims
import Glibc

/// An IPv4 or IPv6 socket address, resolved from a numeric host or a name, or a unix socket path.
public struct SocketAddress: Sendable, CustomStringConvertible {
    var storage: sockaddr_storage
    var length: socklen_t

    /// The address family (AF_INET, AF_INET6 or AF_UNIX).
    public var family: Int32 { Int32(self.storage.ss_family) }

    /// Resolves `host` (numeric, `localhost`, or `0.0.0.0`/`::` for all interfaces) and `port`.
    public static func resolve(host: String, port: Int) throws(EventLoopError) -> SocketAddress {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var result: UnsafeMutablePointer<addrinfo>?
        let bareHost = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let rc = getaddrinfo(bareHost.isEmpty ? nil : bareHost, String(port), &hints, &result)
        guard rc == 0, let info = result else { throw EventLoopError.invalidAddress(host) }
        defer { freeaddrinfo(result) }
        var address = SocketAddress(storage: sockaddr_storage(), length: info.pointee.ai_addrlen)
        withUnsafeMutableBytes(of: &address.storage) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(start: info.pointee.ai_addr, count: Int(info.pointee.ai_addrlen)))
        }
        return address
    }

    /// The address of the unix socket at `path`; nil when the path does not fit `sockaddr_un` (107 bytes).
    public static func unix(path: String) -> SocketAddress? {
        var address = sockaddr_un()
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count < capacity, !bytes.contains(0) else { return nil }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { dst in dst.copyBytes(from: bytes) }
        var result = SocketAddress(storage: sockaddr_storage(), length: socklen_t(MemoryLayout<sockaddr_un>.size))
        withUnsafeMutableBytes(of: &result.storage) { dst in
            withUnsafeBytes(of: &address) { src in dst.copyMemory(from: src) }
        }
        return result
    }

    /// The socket path of a unix address, nil for IP addresses.
    public var unixPath: String? {
        guard self.family == AF_UNIX else { return nil }
        var copy = self.storage
        return withUnsafePointer(to: &copy) { ptr in
            ptr.withMemoryRebound(to: sockaddr_un.self, capacity: 1) { un in
                withUnsafeBytes(of: un.pointee.sun_path) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
            }
        }
    }

    /// The numeric host, e.g. `127.0.0.1` or `::1`.
    public var host: String {
        if self.family == AF_INET { return self.ipv4Host }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        var copy = self.storage
        return withUnsafePointer(to: &copy) { ptr -> String in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                if getnameinfo(sa, self.length, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                    let end = buffer.firstIndex(of: 0) ?? buffer.count
                    return String(decoding: buffer[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                }
                return ""
            }
        }
    }

    /// `a.b.c.d`, written by hand: getnameinfo spends about 3,500 instructions (printf included) on what
    /// every new connection asks for once.
    private var ipv4Host: String {
        var copy = self.storage
        let address = withUnsafePointer(to: &copy) { ptr in
            ptr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
        }
        return String(unsafeUninitializedCapacity: 15) { out in
            var count = 0
            for shift in stride(from: 24, through: 0, by: -8) {
                let octet = Int((address >> UInt32(shift)) & 0xFF)
                if shift != 24 {
                    out[count] = UInt8(ascii: ".")
                    count += 1
                }
                if octet >= 100 {
                    out[count] = UInt8(48 + octet / 100)
                    count += 1
                }
                if octet >= 10 {
                    out[count] = UInt8(48 + octet / 10 % 10)
                    count += 1
                }
                out[count] = UInt8(48 + octet % 10)
                count += 1
            }
            return count
        }
    }

    /// The port number.
    public var port: Int {
        var copy = self.storage
        return withUnsafePointer(to: &copy) { ptr -> Int in
            if self.family == AF_INET6 {
                return ptr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
            return ptr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
    }

    public var description: String {
        if let path = self.unixPath { return "unix:\(path)" }
        return self.family == AF_INET6 ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)"
    }
}
