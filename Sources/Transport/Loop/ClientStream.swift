import Glibc

/// The byte stream under a client protocol (HTTP, WebSocket): plain TCP, or TLS over TCP.
///
/// Like `TCPConnection`, a stream belongs to one loop and is used on its thread only; writes are queued and
/// sent at the end of the loop iteration.
public protocol ClientStream: AnyObject, Sendable {
    /// The loop that owns the stream.
    var loop: EventLoop { get }
    /// Whether the stream is closed (by either side).
    var isClosed: Bool { get }
    /// Who receives input and the close; replace it to hand the stream to another protocol.
    var delegate: ClientStreamDelegate? { get set }
    /// Bytes accepted by `write` and not yet handed to the kernel.
    var pendingOutputBytes: Int { get }
    /// Queues bytes for sending.
    func write(_ bytes: [UInt8])
    /// Lets a codec append its encoding straight into the output, with no temporary array.
    func withOutboundBuffer(_ body: (inout [UInt8]) -> Void)
    /// Sends what is queued, then closes.
    func closeGracefully()
    /// Closes now, dropping queued output.
    func close()
}

/// Receives what happens on a `ClientStream`, on its loop thread.
public protocol ClientStreamDelegate: AnyObject {
    /// New bytes arrived; consume what forms complete messages and leave the rest in `buffer`.
    func streamRead(_ stream: any ClientStream, _ buffer: inout ByteBuffer)
    /// The stream is closed; `error` is an errno for a failure, nil for a clean end.
    func streamClosed(_ stream: any ClientStream, error: Int32?)
}

/// Opens `ClientStream`s. The plain TCP connector is `TCPStreamConnector`; a TLS connector wraps it.
public protocol ClientStreamConnector: Sendable {
    /// Connects to `host:port` and calls `completion` on `loop`'s thread with an open stream whose delegate
    /// is still nil: set it inside `completion`.
    func connect(
        host: String, port: Int, on loop: EventLoop, timeoutMillis: Int,
        _ completion: @escaping @Sendable (Result<any ClientStream, any Error>) -> Void)
}

/// Opens plain TCP streams.
public struct TCPStreamConnector: ClientStreamConnector {
    /// The local address connections are made from (`TCPConnector.connect`'s `source`); nil: the kernel's choice.
    public var source: String?

    /// Creates the connector; `source` binds every connection to that local address.
    public init(source: String? = nil) {
        self.source = source
    }

    /// Connects to `host`:`port` on `loop`; `completion` gets the stream or the error.
    public func connect(
        host: String, port: Int, on loop: EventLoop, timeoutMillis: Int,
        _ completion: @escaping @Sendable (Result<any ClientStream, any Error>) -> Void
    ) {
        TCPConnector.connect(host: host, port: port, source: self.source, on: loop, timeoutMillis: timeoutMillis) { result in
            switch result {
            case .success(let connection):
                completion(.success(TCPClientStream(connection)))
            case .failure(let error):
                completion(.failure(error))
            }
        }
    }
}

/// A `ClientStream` over a `TCPConnection`.
public final class TCPClientStream: ClientStream, ConnectionHandler, @unchecked Sendable {
    // Invariant for @unchecked Sendable: used on `connection.loop`'s thread only.

    /// The connection underneath.
    public let connection: TCPConnection
    /// Held weakly: the protocol object owns its stream, not the other way round.
    public weak var delegate: ClientStreamDelegate?

    /// Wraps `connection` and becomes its handler.
    public init(_ connection: TCPConnection) {
        self.connection = connection
        connection.handler = self
    }

    /// ClientStream: the connection's loop.
    public var loop: EventLoop { self.connection.loop }
    /// ClientStream: whether the connection closed.
    public var isClosed: Bool { self.connection.isClosed }
    /// ClientStream: bytes queued, not yet written.
    public var pendingOutputBytes: Int { self.connection.pendingOutputBytes }

    /// ClientStream: queues `bytes`.
    public func write(_ bytes: [UInt8]) { self.connection.write(bytes) }
    /// ClientStream: appends to the output in place.
    public func withOutboundBuffer(_ body: (inout [UInt8]) -> Void) { self.connection.withOutboundBuffer(body) }
    /// ClientStream: closes once the output is written.
    public func closeGracefully() { self.connection.closeGracefully() }
    /// ClientStream: closes now.
    public func close() { self.connection.close(error: nil) }

    /// TCPConnectionHandler: hands the bytes read to the delegate.
    public func connectionRead(_ connection: TCPConnection, _ buffer: inout ByteBuffer) {
        if let delegate = self.delegate {
            delegate.streamRead(self, &buffer)
        }
    }

    /// TCPConnectionHandler: tells the delegate.
    public func connectionClosed(_ connection: TCPConnection, error: Int32?) {
        self.delegate?.streamClosed(self, error: error)
    }
}
