import COpenSSL
import Glibc

/// Opens TLS streams: TCP first, then a TLS handshake verified against `configuration`.
public final class TLSConnector: ClientStreamConnector, @unchecked Sendable {
    // Invariant for @unchecked Sendable: `context` is configured in init and only read afterwards
    // (OpenSSL allows an SSL_CTX to be shared by threads once set up).
    private let context: OpaquePointer
    /// The verification settings.
    public let configuration: TLSConfiguration
    private let tcp = TCPStreamConnector()

    /// Creates a connector; throws when a CA file cannot be loaded.
    public init(configuration: TLSConfiguration = TLSConfiguration()) throws(TLSError) {
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw TLSError(message: TLSClientStream.lastError()) }
        self.context = context
        self.configuration = configuration
        _ = copenssl_ctx_set_min_proto_version(context, copenssl_tls1_2_version())
        if configuration.trustSystemRoots { SSL_CTX_set_default_verify_paths(context) }
        for file in configuration.additionalCAFiles {
            guard SSL_CTX_load_verify_locations(context, file, nil) == 1 else {
                throw TLSError(message: "cannot load CA file \(file): \(TLSClientStream.lastError())")
            }
        }
        SSL_CTX_set_verify(context, configuration.verifyCertificate ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
    }

    deinit { SSL_CTX_free(self.context) }

    /// Connects to `host`:`port` and runs the TLS handshake; `completion` gets the stream or the error.
    public func connect(
        host: String, port: Int, on loop: EventLoop, timeoutMillis: Int,
        _ completion: @escaping @Sendable (Result<any ClientStream, any Error>) -> Void
    ) {
        let start = monotonicNanos()
        self.tcp.connect(host: host, port: port, on: loop, timeoutMillis: timeoutMillis) { result in
            switch result {
            case .failure(let error):
                completion(.failure(error))
            case .success(let inner):
                let spent = Int((monotonicNanos() - start) / 1_000_000)
                let stream: TLSClientStream
                do {
                    stream = try TLSClientStream(inner: inner, context: self.context, host: host, configuration: self.configuration)
                } catch {
                    inner.close()
                    completion(.failure(error))
                    return
                }
                stream.handshake(timeoutMillis: max(1, timeoutMillis - spent), completion)
            }
        }
    }
}

/// TLS over another `ClientStream`, through OpenSSL memory BIOs: ciphertext from the inner stream is fed
/// to OpenSSL, and what OpenSSL wants to send is written to the inner stream. Loop-confined.
public final class TLSClientStream: ClientStream, ClientStreamDelegate, @unchecked Sendable {
    // Invariant for @unchecked Sendable: used on `inner.loop`'s thread only.
    private let inner: any ClientStream
    private let ssl: OpaquePointer
    private let readBIO: OpaquePointer
    private let writeBIO: OpaquePointer
    /// ClientStream: who gets the decrypted bytes and the close.
    public weak var delegate: ClientStreamDelegate?
    private var handshakeDone = false
    private var handshakeCompletion: (@Sendable (Result<any ClientStream, any Error>) -> Void)?
    private var handshakeTimer: LoopTimer?
    private var pendingPlaintext: [UInt8] = []
    private var plaintext = ByteBuffer()
    private var closed = false
    private var self_: TLSClientStream?

    init(inner: any ClientStream, context: OpaquePointer, host: String, configuration: TLSConfiguration) throws(TLSError) {
        guard let ssl = SSL_new(context), let rbio = BIO_new(BIO_s_mem()), let wbio = BIO_new(BIO_s_mem()) else {
            throw TLSError(message: Self.lastError())
        }
        self.inner = inner
        self.ssl = ssl
        self.readBIO = rbio
        self.writeBIO = wbio
        SSL_set_bio(ssl, rbio, wbio)
        SSL_set_connect_state(ssl)
        let name = configuration.serverName ?? host
        let isAddress = name.contains(":") || name.allSatisfy { $0.isNumber || $0 == "." }
        if !isAddress { _ = copenssl_set_tlsext_host_name(ssl, name) }
        if configuration.verifyCertificate && configuration.verifyHostname {
            if isAddress {
                X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name)
            } else {
                SSL_set1_host(ssl, name)
            }
        }
        inner.delegate = self
    }

    deinit { SSL_free(self.ssl) }

    /// The most recent OpenSSL error as text.
    static func lastError() -> String {
        let code = ERR_get_error()
        guard code != 0 else { return "unknown error" }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        ERR_clear_error()
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func handshake(timeoutMillis: Int, _ completion: @escaping @Sendable (Result<any ClientStream, any Error>) -> Void) {
        self.handshakeCompletion = completion
        // Held by the timer and the inner stream's weak delegate is not enough: keep self alive until done.
        self.self_ = self
        self.handshakeTimer = self.loop.schedule(afterMillis: timeoutMillis) { [weak self] in
            self?.failHandshake(TLSError(message: "handshake timed out"))
        }
        self.advanceHandshake()
    }

    private func advanceHandshake() {
        let rc = SSL_do_handshake(self.ssl)
        self.flushCiphertext()
        if rc == 1 {
            self.handshakeDone = true
            if let timer = self.handshakeTimer { self.loop.cancel(timer) }
            self.handshakeTimer = nil
            let completion = self.handshakeCompletion
            self.handshakeCompletion = nil
            self.self_ = nil
            if !self.pendingPlaintext.isEmpty {
                let queued = self.pendingPlaintext
                self.pendingPlaintext = []
                self.write(queued)
            }
            completion?(.success(self))
            return
        }
        let error = SSL_get_error(self.ssl, rc)
        if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE { return }
        let verify = SSL_get_verify_result(self.ssl)
        let message = verify != X509_V_OK
            ? "certificate verify failed: \(String(cString: X509_verify_cert_error_string(verify)))"
            : Self.lastError()
        self.failHandshake(TLSError(message: message))
    }

    private func failHandshake(_ error: TLSError) {
        guard let completion = self.handshakeCompletion else { return }
        self.handshakeCompletion = nil
        if let timer = self.handshakeTimer { self.loop.cancel(timer) }
        self.handshakeTimer = nil
        self.closed = true
        self.inner.delegate = nil
        self.inner.close()
        self.self_ = nil
        completion(.failure(error))
    }

    /// Moves what OpenSSL produced to the inner stream.
    private func flushCiphertext() {
        let pending = Int(BIO_ctrl_pending(self.writeBIO))
        guard pending > 0 else { return }
        var bytes = [UInt8](repeating: 0, count: pending)
        let count = bytes.withUnsafeMutableBytes { BIO_read(self.writeBIO, $0.baseAddress, Int32(pending)) }
        if count > 0 {
            if count < pending { bytes.removeLast(pending - Int(count)) }
            self.inner.write(bytes)
        }
    }

    // MARK: ClientStream

    /// ClientStream: the connection's loop.
    public var loop: EventLoop { self.inner.loop }
    /// ClientStream: whether the stream closed.
    public var isClosed: Bool { self.closed || self.inner.isClosed }
    /// ClientStream: encrypted bytes queued, not yet written.
    public var pendingOutputBytes: Int { self.inner.pendingOutputBytes }

    /// ClientStream: encrypts and queues `bytes`.
    public func write(_ bytes: [UInt8]) {
        guard !self.isClosed, !bytes.isEmpty else { return }
        guard self.handshakeDone else {
            self.pendingPlaintext.append(contentsOf: bytes)
            return
        }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                SSL_write(self.ssl, raw.baseAddress! + offset, Int32(min(raw.count - offset, 1 << 30)))
            }
            guard written > 0 else {
                self.flushCiphertext()
                self.fail()
                return
            }
            offset += Int(written)
        }
        self.flushCiphertext()
    }

    /// ClientStream: builds plaintext in place, then encrypts it.
    public func withOutboundBuffer(_ body: (inout [UInt8]) -> Void) {
        var bytes: [UInt8] = []
        body(&bytes)
        self.write(bytes)
    }

    /// ClientStream: sends close_notify once the output is written, then closes.
    public func closeGracefully() {
        guard !self.isClosed else { return }
        if self.handshakeDone {
            SSL_shutdown(self.ssl)
            self.flushCiphertext()
        }
        self.closed = true
        self.inner.closeGracefully()
    }

    /// ClientStream: closes now.
    public func close() {
        guard !self.closed else { return }
        self.closed = true
        self.inner.close()
    }

    private func fail() {
        guard !self.closed else { return }
        self.closed = true
        self.inner.close()
        self.delegate?.streamClosed(self, error: EPROTO)
    }

    // MARK: ClientStreamDelegate (the inner stream)

    /// ClientStreamDelegate (of the TCP stream): decrypts the bytes read.
    public func streamRead(_ stream: any ClientStream, _ buffer: inout ByteBuffer) {
        let fed = buffer.withReadableBytes { raw in BIO_write(self.readBIO, raw.baseAddress, Int32(raw.count)) }
        if fed > 0 { buffer.moveReaderIndex(forwardBy: Int(fed)) }
        if !self.handshakeDone {
            self.advanceHandshake()
            guard self.handshakeDone else { return }
        }
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while !self.closed {
            let count = chunk.withUnsafeMutableBytes { SSL_read(self.ssl, $0.baseAddress, Int32($0.count)) }
            if count > 0 {
                self.plaintext.append(contentsOf: chunk[0..<Int(count)])
                continue
            }
            let error = SSL_get_error(self.ssl, count)
            if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE { break }
            if error == SSL_ERROR_ZERO_RETURN {
                // The server's close_notify: deliver what came before it, then end.
                self.deliverPlaintext()
                self.closed = true
                self.inner.closeGracefully()
                return
            }
            self.fail()
            return
        }
        self.flushCiphertext()
        self.deliverPlaintext()
    }

    private func deliverPlaintext() {
        guard !self.plaintext.isEmpty, let delegate = self.delegate else { return }
        var buffer = ByteBuffer()
        swap(&buffer, &self.plaintext)
        delegate.streamRead(self, &buffer)
        buffer.discardReadBytes()
        // Keep what the delegate left, ahead of anything that arrived meanwhile.
        if !buffer.isEmpty {
            buffer.append(contentsOf: self.plaintext.readableView)
            self.plaintext = buffer
        }
    }

    /// ClientStreamDelegate (of the TCP stream): reports the close.
    public func streamClosed(_ stream: any ClientStream, error: Int32?) {
        if !self.handshakeDone {
            self.failHandshake(TLSError(message: "connection closed during the handshake"))
            return
        }
        self.closed = true
        self.delegate?.streamClosed(self, error: error)
    }
}
