/// How the client verifies TLS servers (https/wss).
public struct TLSConfiguration: Sendable, Hashable {
    /// Trust the system's CA store (Debian: /etc/ssl/certs).
    public var trustSystemRoots = true
    /// PEM files of further CAs to trust (e.g. a private CA).
    public var additionalCAFiles: [String] = []
    /// Verify the server's certificate chain. Turning this off makes TLS open to interception; for tests.
    public var verifyCertificate = true
    /// Check that the certificate names the host connected to (DNS name or IP address).
    public var verifyHostname = true
    /// The name sent in SNI and checked against the certificate, when it differs from the URL's host.
    public var serverName: String?

    /// The defaults: system trust store, full verification.
    public init(additionalCAFiles: [String] = []) {
        self.additionalCAFiles = additionalCAFiles
    }
}

/// Why a TLS connection failed.
public struct TLSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What OpenSSL said.
    public var message: String

    public var description: String { "TLS: \(self.message)" }
}
