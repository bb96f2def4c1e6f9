import EngineIO
import Foundation
import HTTPKit
import SocketIO

/// Everything the HTTP routes share: the core, sessions, password hashing and the data folder.
final class SpacesSite: Sendable {
    let core: SpacesCore
    let sessions: SessionCookie
    let hasher: PasswordHasher
    let dataDirectory: String
    let uploadsDirectory: String
    let tempDirectory: String
    let coversDirectory: String
    /// Largest request body the router accepts (uploads included).
    let maxBodyBytes: Int
    /// `http://host:port` when configured; otherwise built from each request's `Host`.
    let publicURL: String?
    /// Live Socket.IO sessions, for `/metrics` (set once the engine exists).
    let connectionCount: @Sendable () -> Int

    init(core: SpacesCore, sessions: SessionCookie, hasher: PasswordHasher, dataDirectory: String, files: SharedFiles,
         maxBodyBytes: Int, publicURL: String?, connectionCount: @escaping @Sendable () -> Int) {
        self.core = core
        self.sessions = sessions
        self.hasher = hasher
        self.dataDirectory = dataDirectory
        self.uploadsDirectory = files.uploads
        self.tempDirectory = dataDirectory + "/tmp"
        self.coversDirectory = files.covers
        self.maxBodyBytes = maxBodyBytes
        self.publicURL = publicURL
        self.connectionCount = connectionCount
    }

    var now: Double { Date().timeIntervalSince1970 }

    // MARK: Who is asking

    /// The logged-in user, or nil (also when the database cannot be read).
    func currentUser(_ context: RequestContext) async -> User? {
        try? await self.sessionUser(context)
    }

    /// The logged-in user or nil; a 503 when the database is unreachable.
    private func sessionUser(_ context: RequestContext) async throws(APIError) -> User? {
        guard let userID = self.sessions.userID(from: context.headers, now: self.now) else { return nil }
        do {
            return try await self.core.perform { try self.core.store.user(id: userID) }
        } catch {
            throw APIError.store(error, fallback: APIError(500, "internal", "internal error"))
        }
    }

    /// The logged-in user, or a 401 (a 503 when the database is unreachable).
    func requireUser(_ context: RequestContext) async throws(APIError) -> User {
        guard let user = try await self.sessionUser(context) else { throw APIError.notLoggedIn() }
        return user
    }

    /// The logged-in admin, or a 401 / 403.
    func requireAdmin(_ context: RequestContext) async throws(APIError) -> User {
        let user = try await self.requireUser(context)
        guard user.isAdmin else { throw APIError.forbidden("admin only") }
        return user
    }

    /// Scheme and host to build absolute URLs for workers.
    func baseURL(_ context: RequestContext) -> String {
        if let publicURL = self.publicURL { return publicURL }
        let host = context.headers["Host"] ?? "localhost"
        let safeHost = Self.safeHost(host)
        // X-Forwarded-Proto counts only behind a trusted proxy (`--trust-proxy`), which `isSecure` reflects.
        return "\(context.request.scheme)://\(safeHost)"
    }

    /// `host` with only letters, digits and `.-:[]_` kept. Most hosts are plain ASCII and already safe: checked
    /// as bytes first (filtering by character cost a submit about 19,000 instructions).
    static func safeHost(_ host: String) -> String {
        let plain = host.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: ":"),
                 UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "_"):
                return true
            default:
                return false
            }
        }
        return plain ? host : host.filter { $0.isLetter || $0.isNumber || ".-:[]_".contains($0) }
    }

    /// Whether the client prefers an HTML answer (a browser form post) over JSON.
    static func wantsHTML(_ context: RequestContext) -> Bool {
        context.headers["Accept"]?.contains("text/html") ?? false
    }

    /// The language, user and path a page is rendered for.
    func pageContext(_ context: RequestContext) async -> PageContext {
        PageContext(language: Language.negotiate(context.headers), user: await self.currentUser(context),
                    path: Self.pathAndQuery(context))
    }

    /// The request's path with its query, as sent (for `next=` links).
    static func pathAndQuery(_ context: RequestContext) -> String {
        let target = context.request.head.target
        return target.hasPrefix("/") && !target.hasPrefix("//") ? target : String(context.path)
    }

    /// An error as an HTML page for browsers, as JSON `{error, code}` otherwise; either in the visitor's language.
    func errorResponse(_ error: APIError, _ context: RequestContext) async -> HTTPResponse {
        if let response = self.errorResponseWithoutPage(error, context) { return response }
        let page = await self.pageContext(context)
        let message = APIMessages.localized(error, Language.negotiate(context.headers)).message
        return HTML.page(page, title: page.t(.errorTitle, ["status": String(error.status)]),
                         body: AccountPages.error(page, status: error.status, message: message),
                         status: error.status)
    }

    /// `errorResponse` when it needs no page (which reads the visitor's account from the core): nil for a browser's
    /// error page.
    func errorResponseWithoutPage(_ error: APIError, _ context: RequestContext) -> HTTPResponse? {
        let language = Language.negotiate(context.headers)
        if Self.wantsHTML(context) {
            guard error.status == 401 else { return nil }
            return .redirect(to: "/login?next=" + HTML.percentEncode(Self.pathAndQuery(context)))
        }
        var response = APIMessages.localized(error, language).response
        response.headers.set("Content-Language", language.rawValue)
        return response
    }

    /// What a route's error answers as.
    static func apiError(_ error: any Error, _ context: RequestContext) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as any StoreFailure where error.kind == .unavailable || error.kind == .storageFull:
            return APIError.store(error, fallback: .databaseUnavailable())
        case let error as any HTTPStatusError:
            return APIError(error.httpStatus, APIError.code(forStatus: error.httpStatus), error.httpMessage)
        default:
            Log.info("\(context.method) \(context.path) failed: \(error)")
            return APIError(500, "internal", "internal error")
        }
    }

    /// Wraps a handler so that every error becomes a JSON `{error, code}` (or an HTML page for browsers).
    func route(_ handler: @escaping @Sendable (RequestContext) async throws -> HTTPResponse) -> RouteHandler {
        { context in
            do {
                return try await handler(context)
            } catch {
                return await self.errorResponse(Self.apiError(error, context), context)
            }
        }
    }

    /// A direct route (answered from the loop thread or the core's queue, no task) whose errors answer as
    /// `route`'s do. `handler` throws or calls `answer` once, from any thread.
    func directRoute(
        _ handler: @escaping @Sendable (RequestContext, _ answer: @escaping @Sendable (Result<HTTPResponse, any Error>) -> Void) throws -> Void
    ) -> DirectRouteHandler {
        { context, routeAnswer in
            let answer: @Sendable (Result<HTTPResponse, any Error>) -> Void = { result in
                switch result {
                case .success(let response):
                    routeAnswer.respond(response)
                case .failure(let failure):
                    let error = Self.apiError(failure, context)
                    if let response = self.errorResponseWithoutPage(error, context) {
                        routeAnswer.respond(response)
                    } else {
                        // A browser's error page reads its account: the rare path, async.
                        Task { routeAnswer.respond(await self.errorResponse(error, context)) }
                    }
                }
            }
            do {
                try handler(context, answer)
            } catch {
                answer(.failure(error))
            }
        }
    }

    /// A JSON response.
    static func json(_ value: JSONValue, status: Int = 200) -> HTTPResponse {
        HTTPResponse.json(bytes: JSONSerializer.serialize(value), status: status)
    }

    /// The body's form fields, urlencoded or multipart (multipart files are removed: routes that take files
    /// parse the body themselves).
    static func formFields(_ context: RequestContext) throws -> QueryParameters {
        if let type = context.headers["Content-Type"], type.lowercased().hasPrefix("multipart/form-data") {
            let form = try context.multipart(limits: MultipartFormLimits(maxFiles: 0, maxTotalFileSize: 0))
            form.removeFiles()
            return form.fields
        }
        return try context.form()
    }
}
