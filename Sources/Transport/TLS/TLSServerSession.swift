import COpenSSL
import Glibc

/// The TLS state of one accepted connection (OpenSSL through memory BIOs, so nothing ever blocks): the
/// connection feeds it ciphertext as it arrives and has it seal queued plaintext when flushing.
final class TLSServerSession {
    // Loop-confined, like the connection that owns it.
    private let ssl: OpaquePointer
    private let readBIO: OpaquePointer
    private let writeBIO: OpaquePointer
    private(set) var handshakeDone = false
    /// Ciphertext at the front of the connection's unsent output (after `outboundStart`): what follows it
    /// is plaintext still to be sealed.
    var unsentCipherBytes = 0
    var handshakeTimer: LoopTimer?

    init?(context: TLSServerContext) {
        guard let ssl = context.makeSSL() else { return nil }
        guard let rbio = BIO_new(BIO_s_mem()), let wbio = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            return nil
        }
        self.ssl = ssl
        self.readBIO = rbio
        self.writeBIO = wbio
        SSL_set_bio(ssl, rbio, wbio)
        SSL_set_accept_state(ssl)
    }

    deinit { SSL_free(self.ssl) }

    enum Outcome {
        /// Carry on (the handshake may still be under way).
        case ok
        /// The peer ended the TLS session cleanly (close_notify).
        case closedByPeer
        /// A failed handshake or a corrupt record.
        case failed
    }

    /// Takes ciphertext from the peer; calls `plaintext` with each decrypted chunk.
    func receive(_ bytes: UnsafeRawBufferPointer, plaintext: (UnsafeRawBufferPointer) -> Void) -> Outcome {
        var offset = 0
        while offset < bytes.count {
            let fed = BIO_write(self.readBIO, bytes.baseAddress! + offset, Int32(bytes.count - offset))
            guard fed > 0 else { return .failed }
            offset += Int(fed)
        }
        if !self.handshakeDone {
            let rc = SSL_do_handshake(self.ssl)
            if rc != 1 {
                let error = SSL_get_error(self.ssl, rc)
                ERR_clear_error()
                return error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE ? .ok : .failed
            }
            self.handshakeDone = true
        }
        return withUnsafeTemporaryAllocation(byteCount: 16 * 1024, alignment: 16) { chunk in
            while true {
                let count = SSL_read(self.ssl, chunk.baseAddress, Int32(chunk.count))
                if count > 0 {
                    plaintext(UnsafeRawBufferPointer(rebasing: chunk[0..<Int(count)]))
                    continue
                }
                let error = SSL_get_error(self.ssl, count)
                ERR_clear_error()
                if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE { return .ok }
                return error == SSL_ERROR_ZERO_RETURN ? .closedByPeer : .failed
            }
        }
    }

    /// Encrypts `plaintext` (appending the records to the write BIO); false when OpenSSL refuses.
    func seal(_ plaintext: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < plaintext.count {
            let written = SSL_write(self.ssl, plaintext.baseAddress! + offset, Int32(min(plaintext.count - offset, 1 << 30)))
            guard written > 0 else {
                ERR_clear_error()
                return false
            }
            offset += Int(written)
        }
        return true
    }

    /// Ciphertext OpenSSL produced (handshake messages, records, alerts) and nobody took yet.
    var pendingCipherBytes: Int { Int(BIO_ctrl_pending(self.writeBIO)) }

    /// Moves the produced ciphertext into `out` at `index`; returns how many bytes.
    func takeCiphertext(into out: inout [UInt8], at index: Int) -> Int {
        let pending = self.pendingCipherBytes
        guard pending > 0 else { return 0 }
        var bytes = [UInt8](repeating: 0, count: pending)
        let count = Int(bytes.withUnsafeMutableBytes { BIO_read(self.writeBIO, $0.baseAddress, Int32(pending)) })
        guard count > 0 else { return 0 }
        if count < pending { bytes.removeLast(pending - count) }
        if index == out.count {
            out.append(contentsOf: bytes)
        } else {
            out.insert(contentsOf: bytes, at: index)
        }
        return count
    }
}
