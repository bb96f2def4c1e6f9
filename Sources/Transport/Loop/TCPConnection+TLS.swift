import Glibc

/// The server side of TLS inside a connection: ciphertext is decrypted as it is read, before the handler
/// sees it, and the handler's plaintext output is sealed when the connection flushes. Handlers (HTTP,
/// WebSocket, an upgrade moving the connection to another loop) work unchanged on top of it.
extension TCPConnection {
    /// Whether the peer reached this connection over TLS.
    public var isSecure: Bool { self.tls != nil }

    /// Makes a just-accepted connection (not started yet) a TLS server endpoint; a client that does not
    /// finish its handshake within the context's timeout is closed. False when OpenSSL has no memory.
    func beginTLS(_ context: TLSServerContext) -> Bool {
        guard let session = TLSServerSession(context: context) else { return false }
        self.tls = session
        session.handshakeTimer = self.loop.schedule(afterMillis: context.handshakeTimeoutMillis) { [weak self] in
            guard let self, let tls = self.tls, !tls.handshakeDone else { return }
            self.close(error: ETIMEDOUT)
        }
        return true
    }

    /// Ciphertext from the peer: handshake progress, then plaintext for the handler.
    func receiveTLS(_ bytes: UnsafeRawBufferPointer, _ tls: TLSServerSession) {
        let wasDone = tls.handshakeDone
        let outcome = tls.receive(bytes) { plaintext in
            guard !self.isClosed else { return }
            self.deliverInput(appending: plaintext)
        }
        guard !self.isClosed else { return }
        if !wasDone && tls.handshakeDone, let timer = tls.handshakeTimer {
            self.loop.cancel(timer)
            tls.handshakeTimer = nil
        }
        // Handshake messages, session tickets, alerts: ahead of any plaintext still waiting to be sealed.
        self.queueCiphertext(tls)
        switch outcome {
        case .ok: break
        case .closedByPeer: self.closeGracefully()
        // The alert OpenSSL queued tells the client why; nothing more is read from it.
        case .failed: self.closeGracefully()
        }
    }

    /// Puts what OpenSSL produced into the output, right after the ciphertext already there.
    private func queueCiphertext(_ tls: TLSServerSession) {
        guard tls.pendingCipherBytes > 0, !self.closeAfterFlush else { return }
        if self.outbound.capacity == 0 { self.outbound = self.loop.takeBuffer() }
        tls.unsentCipherBytes += tls.takeCiphertext(into: &self.outbound, at: self.outboundStart + tls.unsentCipherBytes)
        self.didQueueOutput()
    }

    /// Replaces the plaintext at the end of the output with its TLS records (called when flushing). False
    /// when it cannot be sealed, e.g. plaintext queued before the handshake finished.
    func sealOutput(_ tls: TLSServerSession) -> Bool {
        let start = self.outboundStart + tls.unsentCipherBytes
        guard start < self.outbound.count else { return true }
        guard tls.handshakeDone else { return false }
        let sealed = self.outbound.withUnsafeBytes { raw in tls.seal(UnsafeRawBufferPointer(rebasing: raw[start...])) }
        guard sealed else { return false }
        self.outbound.removeSubrange(start...)
        tls.unsentCipherBytes += tls.takeCiphertext(into: &self.outbound, at: start)
        return true
    }
}
