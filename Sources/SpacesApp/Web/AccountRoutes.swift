import EngineIO
import Foundation
import SocketIO

/// `/register`, `/login`, `/logout` (the original's forms: `username`, `password`; success answers 302) and
/// `/api/me`.
enum AccountRoutes {
    static func install(on router: Router, site: SpacesSite) {
        router.get("/login") { context in
            .html(self.loginPage(site: site, user: await site.currentUser(context), error: nil))
        }
        router.get("/register") { context in
            .html(self.registerPage(user: await site.currentUser(context), error: nil))
        }

        router.post("/register", handler: site.route { context in
            let form = try SpacesSite.formFields(context)
            let username = (form["username"] ?? "").trimmingCharacters(in: .whitespaces)
            let password = form["password"] ?? ""
            if let problem = self.validate(username: username, password: password) {
                return self.formError(context, status: 400, code: "invalid_input", problem, page: self.registerPage)
            }
            let hash = await site.hasher.hashInBackground(password)
            let now = site.now
            let created: User? = try await site.core.perform {
                do {
                    return try site.core.store.createUser(username: username, passwordHash: hash, isAdmin: false, now: now)
                } catch let error as SQLiteError where error.isConstraintViolation {
                    return nil
                }
            }
            guard let user = created else {
                return self.formError(context, status: 409, code: "username_taken", "That username is taken",
                                      page: self.registerPage)
            }
            Log.info("user \"\(user.username)\" registered")
            var response = HTTPResponse.redirect(to: "/login")
            response.setCookie(site.sessions.setCookie(userID: user.id, now: now))
            return response
        })

        router.post("/login", handler: site.route { context in
            let form = try SpacesSite.formFields(context)
            let username = (form["username"] ?? "").trimmingCharacters(in: .whitespaces)
            let password = form["password"] ?? ""
            let user = try await site.core.perform { try site.core.store.user(named: username) }
            let valid = await site.hasher.verifyInBackground(password, against: user?.passwordHash)
            guard valid, let user else {
                return self.formError(context, status: 401, code: "invalid_credentials", "Invalid username or password",
                                      page: { user, error in self.loginPage(site: site, user: user, error: error) })
            }
            let next = context.query["next"].flatMap { $0.hasPrefix("/") && !$0.hasPrefix("//") ? $0 : nil }
            var response = HTTPResponse.redirect(to: next ?? "/")
            response.setCookie(site.sessions.setCookie(userID: user.id, now: site.now))
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

    /// Why a username / password pair is not acceptable, or nil.
    static func validate(username: String, password: String) -> String? {
        guard !username.isEmpty, !password.isEmpty else { return "username and password are required" }
        guard username.count <= 64, username.unicodeScalars.allSatisfy({ scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-@".unicodeScalars.contains(scalar))
        }) else {
            return "usernames use letters, digits and . _ - @ (at most 64)"
        }
        guard password.count >= 4, password.utf8.count <= 1024 else { return "passwords have 4 to 1024 characters" }
        return nil
    }

    /// The form again with an error (browsers), or `{error, code}` (scripts).
    static func formError(_ context: RequestContext, status: Int, code: String, _ message: String,
                          page: (User?, String?) -> String) -> HTTPResponse {
        if SpacesSite.wantsHTML(context) { return .html(page(nil, message), status: status) }
        return APIError(status, code, message).response
    }

    static func loginPage(site: SpacesSite, user: User?, error: String?) -> String {
        HTML.page(title: "Log in", user: user, body: """
            <h1>Log in</h1>\(error.map { "<p class=\"error\">\(HTML.escape($0))</p>" } ?? "")
            <form method="post" action="/login">
            \(HTML.input("username", "Username"))\(HTML.input("password", "Password", type: "password"))
            <button type="submit">Log in</button></form>
            <p class="muted">No account? <a href="/register">Register</a>.</p>
            """)
    }

    static func registerPage(user: User?, error: String?) -> String {
        HTML.page(title: "Register", user: user, body: """
            <h1>Register</h1>\(error.map { "<p class=\"error\">\(HTML.escape($0))</p>" } ?? "")
            <form method="post" action="/register">
            \(HTML.input("username", "Username"))\(HTML.input("password", "Password", type: "password"))
            <button type="submit">Create account</button></form>
            """)
    }
}
