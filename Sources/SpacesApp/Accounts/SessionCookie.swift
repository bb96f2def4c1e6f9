import EngineIO
import Foundation
import HTTPKit
import Synchronization

/// Signed, stateless session cookies: `v1.<user id>.<expiry>.<nonce>.<HMAC-SHA256 signature>`.
///
/// The secret lives in a file (the data folder's `session.key`, or `--session-key`), so sessions survive restarts;
/// deleting the file logs everyone out. Nodes of a cluster that share the file accept each other's cookies.
struct SessionCookie: Sendable {
    static let name = "spaces_session"
    /// How long a login lasts.
    static let lifetimeSeconds = 30 * 24 * 3600

    let secret: [UInt8]
    /// Cookies already verified: every API call of a logged-in page presents the same one.
    private let verified = VerifiedCookies()
    /// Whole `Cookie` headers whose session cookie is in `verified`, with the same user and expiry.
    private let verifiedHeaders = VerifiedCookies()

    init(secret: [UInt8]) {
        self.secret = secret
    }

    /// The cookie value for `userID`, valid until `now + lifetime`.
    func issue(userID: Int64, now: Double) -> String {
        let expiry = Int64(now) + Int64(Self.lifetimeSeconds)
        let body = "v1.\(userID).\(expiry).\(SecureRandom.token(byteCount: 9))"
        return body + "." + Base64URL.encode(HMACSHA256.authenticate(Array(body.utf8), key: self.secret))
    }

    /// The user id of a valid, unexpired cookie value.
    func verify(_ value: String, now: Double) -> Int64? {
        if let known = self.verified.lookup(value) {
            return Double(known.expiry) > now ? known.userID : nil
        }
        guard let dot = value.lastIndex(of: ".") else { return nil }
        let body = value[..<dot]
        guard let signature = Base64URL.decode(value[value.index(after: dot)...]),
              constantTimeEquals(HMACSHA256.authenticate(Array(body.utf8), key: self.secret), signature) else { return nil }
        let parts = body.split(separator: ".")
        guard parts.count == 4, parts[0] == "v1", let userID = Int64(parts[1]), let expiry = Int64(parts[2]),
              Double(expiry) > now else { return nil }
        self.verified.remember(value, userID: userID, expiry: expiry)
        return userID
    }

    /// The user id from a request's cookies.
    func userID(from headers: HTTPHeaders, now: Double) -> Int64? {
        let values = headers.values("Cookie")
        // A page sends the same `Cookie` header with every call: one whose session cookie was verified before
        // is looked up whole, without splitting it into cookies again (the expiry is still checked).
        if values.count == 1, let known = self.verifiedHeaders.lookup(values[0]) {
            return Double(known.expiry) > now ? known.userID : nil
        }
        guard let value = Cookies.parse(values)[Self.name], let userID = self.verify(value, now: now) else { return nil }
        if values.count == 1, let known = self.verified.lookup(value) {
            self.verifiedHeaders.remember(values[0], userID: userID, expiry: known.expiry)
        }
        return userID
    }

    /// `Set-Cookie` for a new login; `secure` (the client came over https) keeps it off plain http.
    func setCookie(userID: Int64, now: Double, secure: Bool = false) -> SetCookie {
        SetCookie(name: Self.name, value: self.issue(userID: userID, now: now), path: "/", maxAge: Self.lifetimeSeconds,
                  httpOnly: true, secure: secure, sameSite: .lax)
    }

    /// `Set-Cookie` that logs out.
    static var clearing: SetCookie {
        var cookie = SetCookie.deletion(name: Self.name)
        cookie.httpOnly = true
        cookie.sameSite = .lax
        return cookie
    }

    /// The secret kept in `directory/session.key` (32 random bytes, hex, mode 0600), created on first use.
    static func loadOrCreateSecret(directory: String) throws -> [UInt8] {
        try self.loadOrCreateSecret(file: directory + "/session.key")
    }

    /// The secret kept in `path`, created on first use. Nodes of a cluster may share the file and start together:
    /// the key is written to a file of its own and linked into place, so exactly one node's key wins and every
    /// node reads that one.
    static func loadOrCreateSecret(file path: String) throws -> [UInt8] {
        if let secret = self.readSecret(path) { return secret }
        let candidate = path + ".\(getpid())-\(SecureRandom.token(byteCount: 6))"
        defer { unlink(candidate) }
        let created = FileManager.default.createFile(atPath: candidate, contents: Data(Hex.encode(SecureRandom.bytes(32)).utf8),
                                                     attributes: [.posixPermissions: 0o600])
        guard created else { throw CocoaError(.fileWriteUnknown) }
        if link(candidate, path) != 0 {
            // EEXIST: another node won, unless the file is not a key (empty, damaged), which ours replaces. Other
            // errors: a file system without hard links, where a rename is the best we have.
            if errno != EEXIST || self.readSecret(path) == nil {
                guard rename(candidate, path) == 0 else { throw CocoaError(.fileWriteUnknown) }
            }
        }
        guard let secret = self.readSecret(path) else { throw CocoaError(.fileWriteUnknown) }
        return secret
    }

    private static func readSecret(_ path: String) -> [UInt8]? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let bytes = Self.decodeHex(text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count >= 32 else { return nil }
        return bytes
    }

    private static func decodeHex(_ text: String) -> [UInt8]? {
        let bytes = Array(text.utf8)
        guard bytes.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            guard let high = nibble(bytes[index]), let low = nibble(bytes[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }
}

/// The signature checks a process already made: cookie value to its user and expiry. Bounded: emptied when it
/// reaches `limit` entries (a cookie then costs one HMAC again).
final class VerifiedCookies: Sendable {
    private let entries = Mutex<[String: (userID: Int64, expiry: Int64)]>([:])
    private let limit = 4096

    func lookup(_ value: String) -> (userID: Int64, expiry: Int64)? {
        self.entries.withLock { $0[value] }
    }

    func remember(_ value: String, userID: Int64, expiry: Int64) {
        self.entries.withLock { entries in
            if entries.count >= self.limit { entries.removeAll(keepingCapacity: true) }
            entries[value] = (userID, expiry)
        }
    }
}
