import COpenSSL
import Glibc
import Synchronization

/// The server side's certificate and key (PEM files), TLS 1.2 or newer. `reload()` reads the files again:
/// handshakes that start afterwards use the new certificate, connections already made keep theirs (each
/// holds a reference to the OpenSSL context it began with).
public final class TLSServerContext: Sendable {
    /// The certificate chain file (server certificate first, then intermediates).
    public let certificateFile: String
    /// The private key file.
    public let keyFile: String
    /// How long a client has to complete its handshake before its connection is closed.
    public let handshakeTimeoutMillis: Int
    // An `SSL_CTX *` stored as an address (a pointer is not Sendable); one reference owned by this object.
    private let current: Mutex<UInt>
    private let hangupRegistration = Mutex<TerminationSignals.Registration?>(nil)

    /// Loads the files; throws when either cannot be read or they do not belong together.
    public init(certificateFile: String, keyFile: String, handshakeTimeoutMillis: Int = 10_000) throws(TLSError) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.handshakeTimeoutMillis = handshakeTimeoutMillis
        let context = try Self.makeContext(certificateFile: certificateFile, keyFile: keyFile)
        self.current = Mutex(UInt(bitPattern: context))
    }

    deinit {
        self.current.withLock { SSL_CTX_free(OpaquePointer(bitPattern: $0)) }
    }

    /// Reads the certificate and key files again; on failure the previous ones stay in use.
    public func reload() throws(TLSError) {
        let context = try Self.makeContext(certificateFile: self.certificateFile, keyFile: self.keyFile)
        let old = self.current.withLock { current -> UInt in
            defer { current = UInt(bitPattern: context) }
            return current
        }
        // Connections that started with the old context hold their own reference to it.
        SSL_CTX_free(OpaquePointer(bitPattern: old))
    }

    /// Reloads the files whenever the process gets SIGHUP (the usual signal after a certificate renewal);
    /// `report` gets each outcome (nil: the new files are in use), for a log line.
    public func reloadOnHangup(report: @escaping @Sendable (TLSError?) -> Void) {
        // Through TerminationSignals' pipe, caught from this call on (a Dispatch signal source is registered
        // asynchronously, and a SIGHUP in between was lost).
        let registration = TerminationSignals.onHangup { [weak self] in
            guard let self else { return }
            do throws(TLSError) {
                try self.reload()
                report(nil)
            } catch {
                report(error)
            }
        }
        self.hangupRegistration.withLock { $0 = registration }
    }

    /// A new server-side `SSL` on the current context (the caller frees it).
    func makeSSL() -> OpaquePointer? {
        self.current.withLock { SSL_new(OpaquePointer(bitPattern: $0)) }
    }

    private static func makeContext(certificateFile: String, keyFile: String) throws(TLSError) -> OpaquePointer {
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw TLSError(message: TLSClientStream.lastError()) }
        _ = copenssl_ctx_set_min_proto_version(context, copenssl_tls1_2_version())
        guard SSL_CTX_use_certificate_chain_file(context, certificateFile) == 1 else {
            let reason = TLSClientStream.lastError()
            SSL_CTX_free(context)
            throw TLSError(message: "cannot load certificate \(certificateFile): \(reason)")
        }
        guard SSL_CTX_use_PrivateKey_file(context, keyFile, SSL_FILETYPE_PEM) == 1, SSL_CTX_check_private_key(context) == 1 else {
            let reason = TLSClientStream.lastError()
            SSL_CTX_free(context)
            throw TLSError(message: "cannot use key \(keyFile): \(reason)")
        }
        // No session cache: nothing to share between loops, and a reloaded certificate is never bypassed.
        _ = copenssl_ctx_set_session_cache_off(context)
        return context
    }
}
