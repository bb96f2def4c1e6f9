import Transport

/// Opens the byte stream for a configuration: TCP, a unix socket, or TLS over TCP (Transport's OpenSSL
/// stream). The TLS context is made once and shared by every reconnect.
final class RedisStreamOpener: Sendable {
    private let configuration: RedisConfiguration
    private let tls: Result<TLSConnector, TLSError>?

    init(configuration: RedisConfiguration) {
        self.configuration = configuration
        if configuration.useTLS {
            do throws(TLSError) {
                self.tls = .success(try TLSConnector(configuration: configuration.tls))
            } catch {
                self.tls = .failure(error)
            }
        } else {
            self.tls = nil
        }
    }

    func open(on loop: EventLoop, timeoutMillis: Int,
              _ completion: @escaping @Sendable (Result<any ClientStream, any Error>) -> Void) {
        switch self.configuration.endpoint {
        case .unix(let path):
            UnixSocketConnector.connect(path: path, on: loop, timeoutMillis: timeoutMillis) { result in
                completion(result.map { TCPClientStream($0) as any ClientStream }.mapError { $0 as any Error })
            }
        case .tcp(let host, let port):
            switch self.tls {
            case nil:
                TCPStreamConnector().connect(host: host, port: port, on: loop, timeoutMillis: timeoutMillis, completion)
            case .success(let connector):
                connector.connect(host: host, port: port, on: loop, timeoutMillis: timeoutMillis, completion)
            case .failure(let error):
                // A CA file that cannot be read: every attempt reports it (the file may appear later).
                loop.execute { completion(.failure(error)) }
            }
        }
    }
}
