import EngineIO
import Foundation
import HTTPKit
import SocketIO

/// `/register`, `/login`, `/logout` (the original's forms: `username`, `password`; success answers 302) and
/// `/api/me`.
enum AccountRoutes {
    static func install(on router: Router, site: SpacesSite) {
        router.get("/login") { context in
            let page = await site.pageContext(context)
            return HTML.page(page, title: page.t(.logIn),
                             body: AccountPages.login(page, next: self.safeNext(context), error: nil))
        }
        router.get("/register") { context in
            let page = await site.pageContext(context)
            return HTML.page(page, title: page.t(.register), body: AccountPages.register(page, error: nil))
        }

        router.post("/register", handler: site.route { context in
            let form = try SpacesSite.formFields(context)
            let username = (form["username"] ?? "").trimmingCharacters(in: .whitespaces)
            let password = form["password"] ?? ""
            if let problem = self.validate(username: username, password: password) {
                return await self.formError(context, site: site, APIError(400, "invalid_input", problem.text(.english)),
                                            phrase: problem) { page, message in
                    (page.t(.register), AccountPages.register(page, username: username, error: message))
                }
            }
            let hash = await site.hasher.hashInBackground(password)
            let now = site.now
            let created: User? = try await site.core.perform {
                do {
                    return try site.core.store.createUser(username: username, passwordHash: hash, isAdmin: false, now: now)
                } catch let error as any StoreFailure where error.isConstraintViolation {
                    return nil
                }
            }
            guard let user = created else {
                return await self.formError(context, site: site, APIError(409, "username_taken", "That username is taken"),
                                            phrase: .usernameTaken) { page, message in
                    (page.t(.register), AccountPages.register(page, username: username, error: message))
                }
            }
            Log.info("user \"\(user.username)\" registered")
            // Registering logs in: browsers go on to the spaces, scripts may follow the original's /login.
            var response = HTTPResponse.redirect(to: SpacesSite.wantsHTML(context) ? "/" : "/login")
            response.setCookie(site.sessions.setCookie(userID: user.id, now: now, secure: context.request.isSecure))
            return response
        })

        router.post("/login", handler: site.route { context in
            let form = try SpacesSite.formFields(context)
            let username = (form["username"] ?? "").trimmingCharacters(in: .whitespaces)
            let password = form["password"] ?? ""
            let user = try await site.core.perform { try site.core.store.user(named: username) }
            let valid = await site.hasher.verifyInBackground(password, against: user?.passwordHash)
            guard valid, let user else {
                let next = self.safeNext(context)
                return await self.formError(context, site: site,
                                            APIError(401, "invalid_credentials", "Invalid username or password"),
                                            phrase: .invalidCredentials) { page, message in
                    (page.t(.logIn), AccountPages.login(page, next: next, username: username, error: message))
                }
            }
            var response = HTTPResponse.redirect(to: self.safeNext(context) ?? "/")
            response.setCookie(site.sessions.setCookie(userID: user.id, now: site.now, secure: context.request.isSecure))
            return response
        })

        let logout: RouteHandler = { _ in
            var response = HTTPResponse.redirect(to: "/")
            response.setCookie(SessionCookie.clearing)
            return response
        }
        router.get("/logout", handler: logout)
        router.post("/logout", handler: logout)

        router.get("/api/me", handler: site.route { context in
            let user = try await site.requireUser(context)
            return SpacesSite.json(["id": .int(user.id), "username": .string(user.username), "is_admin": .bool(user.isAdmin),
                                    "daily_quota": .int(Int64(user.dailyQuota))])
        })
    }

    /// A local path to go to after logging in (`next=`), never another site.
    static func safeNext(_ context: RequestContext) -> String? {
        guard let next = context.query["next"], next.hasPrefix("/"), !next.hasPrefix("//"), !next.hasPrefix("/\\"),
              !next.contains("\r"), !next.contains("\n") else { return nil }
        return next
    }

    /// Why a username / password pair is not acceptable, or nil.
    static func validate(username: String, password: String) -> Phrase? {
        guard !username.isEmpty, !password.isEmpty else { return .credentialsRequired }
        guard username.count <= 64, username.unicodeScalars.allSatisfy({ scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-@".unicodeScalars.contains(scalar))
        }) else {
            return .usernameRules
        }
        guard password.count >= 4, password.utf8.count <= 1024 else { return .passwordRules }
        return nil
    }

    /// The form again with the error for browsers (status kept), `{error, code}` for scripts.
    static func formError(_ context: RequestContext, site: SpacesSite, _ error: APIError, phrase: Phrase,
                          render: (PageContext, String) -> (title: String, body: String)) async -> HTTPResponse {
        guard SpacesSite.wantsHTML(context) else {
            let language = Language.negotiate(context.headers)
            var localized = error
            localized.message = phrase.text(language)
            return localized.response
        }
        let page = await site.pageContext(context)
        let (title, body) = render(page, page.t(phrase))
        return HTML.page(page, title: title, body: body, status: error.status)
    }
}
