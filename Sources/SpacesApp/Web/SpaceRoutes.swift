import EngineIO
import Foundation
import SocketIO

/// Pages and admin routes for spaces: `/`, `/ai_project/<id>`, `/admin`, `/admin/space/add`,
/// `/admin/space/edit/<id>`, `/admin/space/delete/<id>`, user quotas, cover images.
enum SpaceRoutes {
    static func install(on router: Router, site: SpacesSite) {
        router.get("/", handler: site.route { context in
            let user = await site.currentUser(context)
            let rows = try await site.core.perform {
                try site.core.store.spaces().map { ($0, site.core.workerCount(spaceID: $0.id)) }
            }
            var body = "<h1>Spaces</h1>"
            if rows.isEmpty { body += "<p class=\"muted\">No spaces yet.</p>" }
            body += "<ul>"
            for (space, workers) in rows {
                let state = space.isWebsockets ? (workers > 0 ? " · online" : " · offline") : ""
                body += "<li><a href=\"/ai_project/\(space.id)\">\(HTML.escape(space.name))</a>"
                    + " <span class=\"muted\">\(space.cardType.rawValue)\(state)</span></li>"
            }
            body += "</ul>"
            return .html(HTML.page(title: "Spaces", user: user, body: body))
        })

        router.get("/ai_project/:id", handler: site.route { context in
            let user = await site.currentUser(context)
            guard let id = context.params.int("id"),
                  let (space, workers) = try await site.core.perform({ () -> (Space, Int)? in
                      guard let space = try site.core.store.space(id: Int64(id)) else { return nil }
                      return (space, site.core.workerCount(spaceID: space.id))
                  }) else {
                throw APIError.notFound("space_not_found", "Space not found")
            }
            return .html(HTML.page(title: space.name, user: user, body: self.spacePage(space, workers: workers, user: user)))
        })

        router.get("/covers/:name", handler: site.route { context in
            guard let name = context.params["name"], name == Submission.safeFileName(name) else {
                throw APIError.notFound("not_found", "not found")
            }
            return StaticFiles(root: site.coversDirectory, cacheControl: "public, max-age=3600", indexFile: nil)
                .response(for: context.request, relativePath: name)
        })

        router.get("/admin", handler: site.route { context in
            let admin = try await site.requireAdmin(context)
            let (spaces, users) = try await site.core.perform { (try site.core.store.spaces(), try site.core.store.users()) }
            return .html(HTML.page(title: "Admin", user: admin, body: self.adminPage(spaces: spaces, users: users)))
        })

        router.get("/admin/space/add", handler: site.route { context in
            let admin = try await site.requireAdmin(context)
            let form = SpaceForm.html(action: "/admin/space/add", space: Space(name: ""), submitLabel: "Create space")
            return .html(HTML.page(title: "New space", user: admin, body: "<h1>New space</h1>" + form))
        })

        router.post("/admin/space/add", handler: site.route { context in
            _ = try await site.requireAdmin(context)
            let (form, cover) = try self.parseSpaceForm(context, site: site)
            var space = Space(name: "", createdAt: site.now)
            do {
                try SpaceForm.apply(form, to: &space)
            } catch {
                cover.map { _ = unlink($0.path) }
                throw error
            }
            guard !space.name.isEmpty else {
                cover.map { _ = unlink($0.path) }
                throw APIError.badRequest("invalid_name", "A space needs a name")
            }
            let toCreate = space
            let created: Space = try await site.core.perform { () throws -> Space in
                do {
                    var created = try site.core.store.createSpace(toCreate)
                    if let cover {
                        created.coverImage = try self.storeCover(cover, spaceID: created.id, site: site)
                        try site.core.store.updateSpace(created)
                    }
                    return created
                } catch let error as SQLiteError where error.isConstraintViolation {
                    throw self.duplicateName(toCreate.name)
                }
            }
            Log.info("space \"\(created.name)\" (#\(created.id), \(created.cardType.rawValue)) created")
            return .redirect(to: "/admin/space/edit/\(created.id)")
        })

        router.get("/admin/space/edit/:id", handler: site.route { context in
            let admin = try await site.requireAdmin(context)
            let space = try await self.loadSpace(context, site: site)
            let form = SpaceForm.html(action: "/admin/space/edit/\(space.id)", space: space, submitLabel: "Save")
            let delete = """
                <form method="post" action="/admin/space/delete/\(space.id)" onsubmit="return confirm('Delete this space?')">
                <button type="submit">Delete space</button></form>
                """
            return .html(HTML.page(title: "Edit \(space.name)", user: admin, body: """
                <h1>Edit space #\(space.id)</h1><p><a href="/ai_project/\(space.id)">Open the space page</a></p>
                \(form)\(delete)
                """))
        })

        router.post("/admin/space/edit/:id", handler: site.route { context in
            _ = try await site.requireAdmin(context)
            var space = try await self.loadSpace(context, site: site)
            let (form, cover) = try self.parseSpaceForm(context, site: site)
            do {
                try SpaceForm.apply(form, to: &space)
            } catch {
                cover.map { _ = unlink($0.path) }
                throw error
            }
            let updated = space
            try await site.core.perform { () throws in
                do {
                    var toSave = updated
                    if let cover { toSave.coverImage = try self.storeCover(cover, spaceID: updated.id, site: site) }
                    try site.core.store.updateSpace(toSave)
                    site.core.dispatch(spaceID: toSave.id)
                } catch let error as SQLiteError where error.isConstraintViolation {
                    throw self.duplicateName(updated.name)
                }
            }
            return .redirect(to: "/admin/space/edit/\(space.id)")
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
        guard rename(file.path, site.coversDirectory + "/" + name) == 0 else {
            _ = unlink(file.path)
            throw APIError(500, "storage_error", "Could not store the cover image")
        }
        return Submission.safeFileName(name)
    }

    static func adminPage(spaces: [Space], users: [User]) -> String {
        var body = "<h1>Admin</h1><p><a href=\"/admin/space/add\">New space</a> · "
            + "<a href=\"/admin/websockets/status\">Worker connections (JSON)</a> · <a href=\"/metrics\">Metrics</a></p>"
        body += "<h2>Spaces</h2><table><tr><th>#</th><th>Name</th><th>Type</th><th></th></tr>"
        for space in spaces {
            body += "<tr><td>\(space.id)</td><td><a href=\"/ai_project/\(space.id)\">\(HTML.escape(space.name))</a></td>"
                + "<td>\(space.cardType.rawValue)</td><td><a href=\"/admin/space/edit/\(space.id)\">edit</a></td></tr>"
        }
        body += "</table><h2>Users</h2><table><tr><th>#</th><th>Name</th><th>Admin</th><th>Daily quota (0: none)</th></tr>"
        for user in users {
            body += "<tr><td>\(user.id)</td><td>\(HTML.escape(user.username))</td><td>\(user.isAdmin ? "yes" : "no")</td>"
                + "<td><form method=\"post\" action=\"/admin/users/\(user.id)/quota\">"
                + "<input type=\"number\" min=\"0\" name=\"daily_quota\" value=\"\(user.dailyQuota)\"> <button>Set</button></form></td></tr>"
        }
        return body + "</table>"
    }

    static func spacePage(_ space: Space, workers: Int, user: User?) -> String {
        var body = "<h1>\(HTML.escape(space.name))</h1>"
        if let cover = space.coverImage {
            body += "<img src=\"/covers/\(HTML.escape(cover))\" alt=\"\" style=\"max-width:100%\">"
        }
        body += "<p>\(HTML.escape(space.description).replacingOccurrences(of: "\n", with: "<br>"))</p>"
        guard space.isWebsockets else { return body }
        body += "<p class=\"muted\">\(workers > 0 ? "A worker is online" : "No worker is online right now")</p>"
        guard user != nil else {
            return body + "<p><a href=\"/login?next=/ai_project/\(space.id)\">Log in</a> to send requests.</p>"
        }
        var fields = ""
        if space.enablePrompt { fields += "<label>Prompt <textarea name=\"prompt\" rows=\"4\"></textarea></label>" }
        if space.enableAudio {
            fields += HTML.input("audio_url", "Audio URL") + "<label>Audio file <input type=\"file\" name=\"audio_file\" accept=\"audio/*\"></label>"
        }
        if space.enableVideo { fields += "<label>Video file <input type=\"file\" name=\"video_file\" accept=\"video/*\"></label>" }
        if space.enableFileUpload { fields += "<label>File <input type=\"file\" name=\"other_file\"></label>" }
        body += """
            <form id="submit" method="post" action="/websockets/submit/\(space.id)" enctype="multipart/form-data">
            \(fields)<button type="submit">Send</button></form>
            <p id="state" class="muted"></p><pre id="result"></pre>
            <script>
            const form = document.getElementById('submit'), state = document.getElementById('state'), out = document.getElementById('result');
            form.addEventListener('submit', async (event) => {
              event.preventDefault();
              out.textContent = ''; state.textContent = 'sending…';
              const answer = await fetch(form.action, {method: 'POST', body: new FormData(form)});
              const body = await answer.json();
              if (!answer.ok) { state.textContent = body.error || 'error'; return; }
              for (;;) {
                await new Promise(r => setTimeout(r, 1000));
                const s = await (await fetch('/websockets/status?request_id=' + encodeURIComponent(body.request_id))).json();
                state.textContent = s.status + (s.queue_position ? ' (position ' + s.queue_position + ')' : '');
                if (['completed', 'failed', 'timeout', 'canceled'].includes(s.status)) {
                  out.textContent = JSON.stringify(s.result ?? s.error, null, 2);
                  break;
                }
              }
            });
            </script>
            """
        return body
    }
}
