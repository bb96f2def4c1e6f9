import EngineIO
import HTTPKit

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

    /// The form's HTML, filled with `space` (labels in the page's language).
    static func html(_ page: PageContext, action: String, space: Space, submitLabel: String) -> String {
        let type = SpaceType.allCases.map { type in
            let label = page.h(type == .websockets ? .remoteWorkerSpace : .standardSpace)
            return "<option value=\"\(type.rawValue)\"\(space.cardType == type ? " selected" : "")>\(label)</option>"
        }.joined()
        let megabytes = String(max(1, space.maxUploadBytes / (1024 * 1024)))
        return """
            <form method="post" action="\(HTML.escape(action))" enctype="multipart/form-data" id="space-form" class="space-form">
            \(HTML.input("name", page.t(.name), value: space.name, attributes: "required maxlength=\"200\""))
            <div class="field"><label for="field-description">\(page.h(.description))</label>
            <textarea name="description" id="field-description" rows="4">\(HTML.escape(space.description))</textarea></div>
            <div class="field"><label for="field-card_type">\(page.h(.type))</label>
            <select name="card_type" id="field-card_type">\(type)</select></div>
            <div class="field"><label for="field-cover_image">\(page.h(.coverImage))</label>
            <input type="file" name="cover_image" id="field-cover_image" accept="image/*" aria-describedby="field-cover_image-hint">
            <p class="hint" id="field-cover_image-hint">\(page.h(.coverImageHint))</p></div>
            <fieldset><legend>\(page.h(.remoteWorkerSettings))</legend>
            <p class="hint">\(page.h(.enabledInputs))</p>
            \(HTML.checkbox("ws_enable_prompt", page.t(.prompt), checked: space.enablePrompt))
            \(HTML.checkbox("ws_enable_audio", page.t(.audioInput), checked: space.enableAudio))
            \(HTML.checkbox("ws_enable_video", page.t(.videoFile), checked: space.enableVideo))
            \(HTML.checkbox("ws_enable_file_upload", page.t(.otherFile), checked: space.enableFileUpload))
            \(HTML.input("ws_rate_limit_seconds", page.t(.rateLimitField), value: String(space.rateLimitSeconds), type: "number", attributes: "min=\"0\" max=\"86400\""))
            \(HTML.input("max_workers", page.t(.maxWorkersField), value: String(space.maxWorkers), type: "number", attributes: "min=\"1\" max=\"1000\""))
            \(HTML.input("max_concurrency", page.t(.maxConcurrencyField), value: String(space.maxConcurrency), type: "number", attributes: "min=\"1\" max=\"1000\""))
            \(HTML.input("timeout_seconds", page.t(.timeoutField), value: String(space.timeoutSeconds), type: "number", attributes: "min=\"1\" max=\"86400\""))
            \(HTML.input("max_upload_mb", page.t(.maxUploadField), value: megabytes, type: "number", attributes: "min=\"1\" max=\"10240\""))
            \(HTML.input("worker_token", page.t(.workerTokenField), value: space.workerToken ?? "", hint: page.t(.workerTokenHint), attributes: "autocomplete=\"off\""))
            </fieldset>
            <div class="actions"><button type="submit" id="space-submit">\(HTML.escape(submitLabel))</button></div></form>
            """
    }
}
