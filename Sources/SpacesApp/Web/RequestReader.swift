import EngineIO
import HTTPKit

/// Who asks to read a request: the token it presents (`?token=`, `Authorization: Bearer`, `X-Request-Token`) and
/// the user of its login cookie, both read before the trip to the core, so the record and the account come back
/// from the store in one trip (a status read is the most frequent call of the API).
struct RequestReader: Sendable {
    let token: String?
    /// The user id of a valid, unexpired login cookie.
    let userID: Int64?

    init(_ context: RequestContext, site: SpacesSite) {
        self.token = context.query["token"] ?? RequestRoutes.bearerToken(context)
        self.userID = site.sessions.userID(from: context.headers, now: site.now)
    }

    func holdsToken(of record: RequestRecord) -> Bool {
        guard let token else { return false }
        return constantTimeEquals(token, record.token)
    }

    /// The account to check (on the core's queue): looked up only when the token does not already grant the read.
    func account(for record: RequestRecord, in store: SpacesStore) throws -> User? {
        guard !self.holdsToken(of: record), let userID = self.userID else { return nil }
        return try store.user(id: userID)
    }

    /// A request may be read by whoever holds its token, its owner and admins.
    func authorize(_ record: RequestRecord, account: User?) throws(APIError) {
        if self.holdsToken(of: record) { return }
        guard let account else { throw APIError.notLoggedIn() }
        guard account.id == record.userID || account.isAdmin else {
            throw APIError.forbidden("This request belongs to someone else")
        }
    }
}
