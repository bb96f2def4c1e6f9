import Dispatch

/// Salted, slow password hashes: PBKDF2-HMAC-SHA256, stored as `pbkdf2_sha256$<iterations>$<salt>$<hash>`
/// (salt and hash in base64url). The iteration count travels with each hash, so raising it later keeps old
/// hashes valid.
struct PasswordHasher: Sendable {
    /// Rounds for new hashes (OWASP's 2023 advice for PBKDF2-HMAC-SHA256 is 600,000).
    var iterations: Int

    static let defaultIterations = 600_000
    static let prefix = "pbkdf2_sha256"

    init(iterations: Int = PasswordHasher.defaultIterations) {
        self.iterations = max(1, iterations)
    }

    /// A new hash of `password` with a fresh 16-byte salt.
    func hash(_ password: String) -> String {
        let salt = SecureRandom.bytes(16)
        let derived = PBKDF2.sha256(password: Array(password.utf8), salt: salt, iterations: self.iterations, length: 32)
        return "\(Self.prefix)$\(self.iterations)$\(Base64URL.encode(salt))$\(Base64URL.encode(derived))"
    }

    /// Whether `password` matches `stored` (false for a malformed hash).
    func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == Self.prefix, let iterations = Int(parts[1]), iterations >= 1,
              iterations <= 10_000_000, let salt = Base64URL.decode(parts[2]), let expected = Base64URL.decode(parts[3]),
              !expected.isEmpty else { return false }
        let derived = PBKDF2.sha256(password: Array(password.utf8), salt: salt, iterations: iterations, length: expected.count)
        return constantTimeEquals(derived, expected)
    }

    /// `hash` on a background thread: hashing takes a good fraction of a second by design and must not hold an
    /// event loop or the store's queue.
    func hashInBackground(_ password: String) async -> String {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(returning: self.hash(password))
            }
        }
    }

    /// `verify` on a background thread. With no stored hash, a dummy one is checked so that unknown users take
    /// as long as known ones.
    func verifyInBackground(_ password: String, against stored: String?) async -> Bool {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                if let stored {
                    continuation.resume(returning: self.verify(password, against: stored))
                } else {
                    _ = PBKDF2.sha256(password: Array(password.utf8), salt: [0], iterations: self.iterations, length: 32)
                    continuation.resume(returning: false)
                }
            }
        }
    }
}
