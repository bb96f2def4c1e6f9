import CEngineIOShims
import Glibc

/// An IPv4 or IPv6 socket address, resolved from a numeric host or a name.
public struct SocketAddress: Sendable, CustomStringConvertible {
    var storage: sockaddr_storage
    var length: socklen_t

    /// The address family (AF_INET or AF_INET6).
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

    /// The numeric host, e.g. `127.0.0.1` or `::1`.
    public var host: String {
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
        self.family == AF_INET6 ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)"
    }
}
