import EngineIO

/// The admin's space form (the original's fields plus ours), parsed onto a `Space`.
enum SpaceForm {
    /// Applies `form` to `space`. Checkboxes absent from the form are off (as browsers send them); other absent
    /// fields keep their value. Throws 400 for invalid values.
    static func apply(_ form: QueryParameters, to space: inout Space) throws(APIError) {
        if let name = form["name"] {
            let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty, trimmed.count <= 200 else {
                throw APIError.badRequest("invalid_name", "A space needs a name of at most 200 characters")
            }
            space.name = trimmed
        }
        if let description = form["description"] {
            guard description.count <= 100_000 else { throw APIError.badRequest("invalid_input", "Description too long") }
            space.description = description
        }
        if let type = form["card_type"] {
            guard let parsed = SpaceType(rawValue: type.trimmingCharacters(in: .whitespaces).lowercased()) else {
                throw APIError.badRequest("invalid_card_type", "card_type is \"standard\" or \"websockets\"")
            }
            space.cardType = parsed
        }
        space.enablePrompt = self.checked(form, "ws_enable_prompt")
        space.enableAudio = self.checked(form, "ws_enable_audio")
        space.enableVideo = self.checked(form, "ws_enable_video")
        space.enableFileUpload = self.checked(form, "ws_enable_file_upload")
        space.rateLimitSeconds = try self.int(form, "ws_rate_limit_seconds", 0...86_400) ?? space.rateLimitSeconds
        space.maxWorkers = try self.int(form, "max_workers", 1...1000) ?? space.maxWorkers
        space.maxConcurrency = try self.int(form, "max_concurrency", 1...1000) ?? space.maxConcurrency
        space.timeoutSeconds = try self.int(form, "timeout_seconds", 1...86_400) ?? space.timeoutSeconds
        if let megabytes = try self.int(form, "max_upload_mb", 1...10_240) { space.maxUploadBytes = megabytes * 1024 * 1024 }
        if let bytes = try self.int(form, "max_upload_bytes", 1...(10_240 * 1024 * 1024)) { space.maxUploadBytes = bytes }
        if let token = form["worker_token"] {
            let trimmed = token.trimmingCharacters(in: .whitespacesAndNewlines)
            space.workerToken = trimmed.isEmpty ? nil : trimmed
        }
    }

    static func checked(_ form: QueryParameters, _ name: String) -> Bool {
        form.bool(name) ?? false
    }

    private static func int(_ form: QueryParameters, _ name: String, _ range: ClosedRange<Int>) throws(APIError) -> Int? {
        guard let text = form[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw APIError.badRequest("invalid_\(name)", "\(name) must be a whole number in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// The form's HTML, filled with `space`.
    static func html(action: String, space: Space, submitLabel: String) -> String {
        let type = SpaceType.allCases.map { type in
            "<option value=\"\(type.rawValue)\"\(space.cardType == type ? " selected" : "")>\(type.rawValue)</option>"
        }.joined()
        return """
            <form method="post" action="\(HTML.escape(action))" enctype="multipart/form-data">
            \(HTML.input("name", "Name", value: space.name))
            <label>Description <textarea name="description" rows="4">\(HTML.escape(space.description))</textarea></label>
            <label>Type <select name="card_type">\(type)</select></label>
            <label>Cover image <input type="file" name="cover_image" accept="image/*"></label>
            <fieldset><legend>Remote worker (websockets) settings</legend>
            \(HTML.checkbox("ws_enable_prompt", "Text prompt", checked: space.enablePrompt))
            \(HTML.checkbox("ws_enable_audio", "Audio", checked: space.enableAudio))
            \(HTML.checkbox("ws_enable_video", "Video", checked: space.enableVideo))
            \(HTML.checkbox("ws_enable_file_upload", "File upload", checked: space.enableFileUpload))
            \(HTML.input("ws_rate_limit_seconds", "Seconds between submissions per user (0: none)", value: String(space.rateLimitSeconds), type: "number"))
            \(HTML.input("max_workers", "Workers at once", value: String(space.maxWorkers), type: "number"))
            \(HTML.input("max_concurrency", "Requests per worker at once", value: String(space.maxConcurrency), type: "number"))
            \(HTML.input("timeout_seconds", "Timeout (seconds)", value: String(space.timeoutSeconds), type: "number"))
            \(HTML.input("max_upload_mb", "Largest upload (MB)", value: String(max(1, space.maxUploadBytes / (1024 * 1024))), type: "number"))
            \(HTML.input("worker_token", "Worker token (empty: none)", value: space.workerToken ?? ""))
            </fieldset>
            <button type="submit">\(HTML.escape(submitLabel))</button></form>
            """
    }
}
