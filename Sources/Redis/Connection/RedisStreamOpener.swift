import EngineIO

/// Opens the byte stream for a configuration: TCP, a unix socket, or TLS over TCP.
enum RedisStreamOpener {
    static func open(
        _ configuration: RedisConfiguration, on loop: EventLoop, timeoutMillis: Int,
        _ completion: @escaping @Sendable (Result<any ClientStream, any Error>) -> Void
    ) {
        switch configuration.endpoint {
        case .unix(let path):
            UnixSocketConnector.connect(path: path, on: loop, timeoutMillis: timeoutMillis) { result in
                completion(result.map { TCPClientStream($0) as any ClientStream }.mapError { $0 as any Error })
            }
        case .tcp(let host, let port):
            if configuration.useTLS {
                loop.execute { completion(.failure(RedisClientError.invalidURL("rediss:// is not available in this build yet"))) }
                return
            }
            TCPStreamConnector().connect(host: host, port: port, on: loop, timeoutMillis: timeoutMillis, completion)
        }
    }
}
