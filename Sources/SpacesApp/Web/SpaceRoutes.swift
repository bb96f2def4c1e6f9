import EngineIO
import Foundation
import HTTPKit
import SocketIO

/// Pages and admin routes for spaces: `/`, `/ai_project/<id>`, `/admin`, `/admin/space/add`,
/// `/admin/space/edit/<id>`, `/admin/space/delete/<id>`, user quotas, cover images.
enum SpaceRoutes {
    static func install(on router: Router, site: SpacesSite) {
        router.get("/", handler: site.route { context in
            let page = await site.pageContext(context)
            let cards = try await site.core.perform {
                try site.core.store.spaces().map {
                    HomePage.Card(space: $0, workers: site.core.workerCount(spaceID: $0.id),
                                  waiting: site.core.queueSize(spaceID: $0.id))
                }
            }
            let (body, data) = HomePage.render(page, cards: cards)
            return HTML.page(page, title: page.t(.spaces), body: body, scripts: ["live.js", "home.js"], data: data)
        })

        router.get("/ai_project/:id", handler: site.route { context in
            let page = await site.pageContext(context)
            guard let id = context.params.int("id"),
                  let (space, state) = try await site.core.perform({ () -> (Space, JSONValue)? in
                      guard let space = try site.core.store.space(id: Int64(id)) else { return nil }
                      return (space, site.core.spaceState(space.id))
                  }) else {
                throw APIError.notFound("space_not_found", "Space not found")
            }
            let (body, data) = SpacePage.render(page, space: space, state: state)
            let scripts = space.isWebsockets ? ["live.js", "space.js"] : []
            return HTML.page(page, title: space.name, body: body, scripts: scripts, data: data)
        })

        // The public state of a space (what its page shows), for scripts and the page's fallback polling.
        router.get("/api/spaces/:id", handler: site.route { context in
            guard let id = context.params.int("id"),
                  let state = try await site.core.perform({ () -> JSONValue? in
                      guard let space = try site.core.store.space(id: Int64(id)) else { return nil }
                      guard case .object(var object) = site.core.spaceState(space.id) else { return nil }
                      object["name"] = .string(space.name)
                      object["type"] = .string(space.cardType.rawValue)
                      return .object(object)
                  }) else {
                throw APIError.notFound("space_not_found", "Space not found")
            }
            return SpacesSite.json(state)
        })

        router.get("/covers/:name", handler: site.route { context in
            guard let name = context.params["name"], name == Submission.safeFileName(name) else {
                throw APIError.notFound("not_found", "not found")
            }
            return StaticFiles(root: site.coversDirectory, cacheControl: "public, max-age=3600", indexFile: nil)
                .response(for: context.request, relativePath: name)
        })

        router.get("/admin", handler: site.route { context in
            _ = try await site.requireAdmin(context)
            let page = await site.pageContext(context)
            let data = try await site.core.perform { try site.core.dashboardData(recentLimit: 50) }
            return HTML.page(page, title: page.t(.admin), body: AdminDashboard.render(page, data, now: site.now),
                             scripts: ["admin.js"])
        })

        router.get("/admin/space/add", handler: site.route { context in
            _ = try await site.requireAdmin(context)
            let page = await site.pageContext(context)
            var space = Space(name: "", cardType: .websockets)
            space.enablePrompt = true
            return HTML.page(page, title: page.t(.newSpace), body: SpaceAdminPage.add(page, space: space, error: nil))
        })

        router.post("/admin/space/add", handler: site.route { context in
            _ = try await site.requireAdmin(context)
            let (form, cover) = try self.parseSpaceForm(context, site: site)
            var space = Space(name: "", createdAt: site.now)
            do {
                try SpaceForm.apply(form, to: &space)
                guard !space.name.isEmpty else { throw APIError.badRequest("invalid_name", "A space needs a name") }
            } catch {
                cover.map { _ = unlink($0.path) }
                return try await self.formAgain(context, site: site, error: error, space: space, editing: false)
            }
            let toCreate = space
            let created: Space
            do {
                created = try await site.core.perform { () throws -> Space in
                    do {
                        var created = try site.core.store.createSpace(toCreate)
                        if let cover {
                            created.coverImage = try self.storeCover(cover, spaceID: created.id, site: site)
                            try site.core.store.updateSpace(created)
                        }
                        return created
                    } catch let error as any StoreFailure where error.isConstraintViolation {
                        cover.map { _ = unlink($0.path) }
                        throw self.duplicateName(toCreate.name)
                    }
                }
            } catch let error as APIError {
                return try await self.formAgain(context, site: site, error: error, space: toCreate, editing: false)
            }
            Log.info("space \"\(created.name)\" (#\(created.id), \(created.cardType.rawValue)) created")
            return self.savedRedirect(created.id)
        })

        router.get("/admin/space/edit/:id", handler: site.route { context in
            _ = try await site.requireAdmin(context)
            let page = await site.pageContext(context)
            let space = try await self.loadSpace(context, site: site)
            let saved = context.cookies[self.savedCookie] == String(space.id)
            let body = SpaceAdminPage.edit(page, space: space, baseURL: site.baseURL(context), error: nil, saved: saved)
            var response = HTML.page(page, title: page.t(.editSpace, ["name": space.name]), body: body, scripts: ["admin.js"])
            if saved { response.setCookie(SetCookie.deletion(name: self.savedCookie, path: "/admin")) }
            return response
        })

        router.post("/admin/space/edit/:id", handler: site.route { context in
            _ = try await site.requireAdmin(context)
            var space = try await self.loadSpace(context, site: site)
            let (form, cover) = try self.parseSpaceForm(context, site: site)
            do {
                try SpaceForm.apply(form, to: &space)
            } catch {
                cover.map { _ = unlink($0.path) }
                return try await self.formAgain(context, site: site, error: error, space: space, editing: true)
            }
            let updated = space
            do {
                try await site.core.perform { () throws in
                    do {
                        var toSave = updated
                        if let cover { toSave.coverImage = try self.storeCover(cover, spaceID: updated.id, site: site) }
                        try site.core.store.updateSpace(toSave)
                        site.core.dispatch(spaceID: toSave.id)
                        site.core.spaceChanged(toSave.id)
                    } catch let error as any StoreFailure where error.isConstraintViolation {
                        cover.map { _ = unlink($0.path) }
                        throw self.duplicateName(updated.name)
                    }
                }
            } catch let error as APIError {
                return try await self.formAgain(context, site: site, error: error, space: updated, editing: true)
            }
            return self.savedRedirect(space.id)
        })

        router.post("/admin/space/delete/:id", handler: site.route { context in
            _ = try await site.requireAdmin(context)
            let space = try await self.loadSpace(context, site: site)
            try await site.core.perform { try site.core.deleteSpace(id: space.id) }
            Log.info("space \"\(space.name)\" (#\(space.id)) deleted")
            return .redirect(to: "/admin")
        })

        router.post("/admin/users/:id/quota", handler: site.route { context in
            _ = try await site.requireAdmin(context)
            let form = try SpacesSite.formFields(context)
            guard let userID = context.params.int("id") else { throw APIError.notFound("user_not_found", "User not found") }
            guard let text = form["daily_quota"] ?? form["daily_limit"], let quota = Int(text.trimmingCharacters(in: .whitespaces)),
                  quota >= 0 else {
                throw APIError.badRequest("invalid_daily_quota", "daily_quota must be a whole number, 0 for no limit")
            }
            let found = try await site.core.perform { () -> Bool in
                guard try site.core.store.user(id: Int64(userID)) != nil else { return false }
                try site.core.store.setDailyQuota(userID: Int64(userID), quota)
                return true
            }
            guard found else { throw APIError.notFound("user_not_found", "User not found") }
            return .redirect(to: "/admin")
        })

        router.post("/admin/users/:id/admin", handler: site.route { context in
            let admin = try await site.requireAdmin(context)
            let form = try SpacesSite.formFields(context)
            guard let userID = context.params.int("id") else { throw APIError.notFound("user_not_found", "User not found") }
            let makeAdmin = SpaceForm.checked(form, "is_admin")
            guard Int64(userID) != admin.id || makeAdmin else {
                throw APIError(409, "cannot_demote_self", "You cannot remove your own admin role")
            }
            try await site.core.perform { try site.core.store.setAdmin(userID: Int64(userID), makeAdmin) }
            return .redirect(to: "/admin")
        })
    }

    static func duplicateName(_ name: String) -> APIError {
        APIError(409, "duplicate_name", "A websockets space named \"\(name)\" already exists; names must be unique")
    }

    static func loadSpace(_ context: RequestContext, site: SpacesSite) async throws -> Space {
        guard let id = context.params.int("id"),
              let space = try await site.core.perform({ try site.core.store.space(id: Int64(id)) }) else {
            throw APIError.notFound("space_not_found", "Space not found")
        }
        return space
    }

    /// The form fields, and the cover image when one was uploaded (a temporary file the caller owns).
    static func parseSpaceForm(_ context: RequestContext, site: SpacesSite) throws -> (QueryParameters, MultipartFile?) {
        guard let type = context.headers["Content-Type"], type.lowercased().hasPrefix("multipart/form-data") else {
            return (try context.form(), nil)
        }
        let form = try context.multipart(directory: site.tempDirectory,
                                         limits: MultipartFormLimits(maxFiles: 1, maxTotalFileSize: 5 * 1024 * 1024))
        var cover: MultipartFile?
        for file in form.files {
            if file.name == "cover_image" && file.size > 0 && cover == nil { cover = file } else { _ = unlink(file.path) }
        }
        if let image = cover, !image.contentType.lowercased().hasPrefix("image/") {
            _ = unlink(image.path)
            throw APIError.badRequest("invalid_cover_image", "The cover image must be an image")
        }
        return (form.fields, cover)
    }

    /// Moves an uploaded cover next to the others; returns its file name.
    static func storeCover(_ file: MultipartFile, spaceID: Int64, site: SpacesSite) throws -> String {
        let ext = (file.filename as NSString).pathExtension.lowercased()
        let safeExt = ["png", "jpg", "jpeg", "gif", "webp", "svg"].contains(ext) ? ext : "img"
        let name = "\(spaceID)-\(SecureRandom.token(byteCount: 6)).\(safeExt)"
        try FileManager.default.createDirectory(atPath: site.coversDirectory, withIntermediateDirectories: true)
        guard FileMove.move(file.path, to: site.coversDirectory + "/" + name) else {
            _ = unlink(file.path)
            throw APIError(500, "storage_error", "Could not store the cover image")
        }
        return Submission.safeFileName(name)
    }

    /// One-shot cookie telling the edit page it was just saved (the redirect keeps the original's plain URL).
    static let savedCookie = "spaces_saved"

    static func savedRedirect(_ spaceID: Int64) -> HTTPResponse {
        var response = HTTPResponse.redirect(to: "/admin/space/edit/\(spaceID)")
        response.setCookie(SetCookie(name: self.savedCookie, value: String(spaceID), path: "/admin", maxAge: 60,
                                     httpOnly: true, sameSite: .lax))
        return response
    }

    /// After a refused space form: the form again with the error and what was typed (browsers), or the error.
    static func formAgain(_ context: RequestContext, site: SpacesSite, error: any Error, space: Space,
                          editing: Bool) async throws -> HTTPResponse {
        guard let apiError = error as? APIError, SpacesSite.wantsHTML(context) else { throw error }
        let page = await site.pageContext(context)
        let message = APIMessages.localized(apiError, page.language).message
        let body = editing
            ? SpaceAdminPage.edit(page, space: space, baseURL: site.baseURL(context), error: message, saved: false)
            : SpaceAdminPage.add(page, space: space, error: message)
        return HTML.page(page, title: page.t(editing ? .editSpace : .newSpace, ["name": space.name]), body: body,
                         scripts: ["admin.js"], status: apiError.status)
    }
}
