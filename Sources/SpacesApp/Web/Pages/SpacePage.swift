import SocketIO

/// `/ai_project/<id>`: the space, whether a worker serves it and how many wait, the form of the inputs the space
/// enables (with size limits), and the visitor's requests, all kept live by space.js (which also renders results).
enum SpacePage {
    static func render(_ page: PageContext, space: Space, state: JSONValue) -> (body: String, data: JSONValue) {
        var body = "<div class=\"space-head\">"
        if let cover = space.coverImage {
            body += "<img class=\"space-cover\" src=\"/covers/\(HTML.escape(cover))\" alt=\"\">"
        }
        body += "<div><h1>\(HTML.escape(space.name))</h1>"
        if !space.description.isEmpty {
            body += "<p class=\"description\">\(HTML.escape(space.description).replacingOccurrences(of: "\n", with: "<br>"))</p>"
        }
        body += "</div></div>"
        guard space.isWebsockets else {
            return (body + "<p class=\"muted\">\(page.h(.standardSpaceNote))</p>", ["space_id": .int(space.id)])
        }
        let online = state["connected"]?.boolValue ?? false
        let waiting = state["queue_size"]?.intValue ?? 0
        let processing = state["processing"]?.intValue ?? 0
        body += """
            <p class="space-status" aria-live="polite">
            <span id="worker-state" class="badge \(online ? "online" : "offline")" data-connected="\(online)">\(page.h(online ? .workerOnline : .workerOffline))</span>
            <span id="queue-size" data-count="\(waiting)">\(page.h(.waitingCount, ["count": String(waiting)]))</span>
            <span id="processing-count" data-count="\(processing)">\(page.h(.processingCount, ["count": String(processing)]))</span>
            </p>
            """
        guard page.user != nil else {
            let next = HTML.escape(HTML.percentEncode("/ai_project/\(space.id)"))
            body += """
                <p id="login-prompt" class="notice">\(page.h(.logInToSend))
                <a class="button" href="/login?next=\(next)">\(page.h(.logIn))</a>
                <a href="/register">\(page.h(.register))</a></p>
                """
            return (body, self.data(page, space: space, loggedIn: false))
        }
        body += "<p id=\"live-state\" class=\"live-state\" data-mode=\"connecting\" aria-live=\"polite\">\(page.h(.liveConnecting))</p>"
        body += "<section class=\"panel\" aria-labelledby=\"new-request-title\"><h2 id=\"new-request-title\">\(page.h(.newRequest))</h2>"
        body += self.form(page, space: space, online: online)
        body += "</section>"
        body += """
            <section class="panel" aria-labelledby="requests-title"><h2 id="requests-title">\(page.h(.yourRequests))</h2>
            <p id="no-requests" class="muted">\(page.h(.noRequestsYet))</p>
            <ol id="requests" class="requests"></ol></section>
            """
        return (body, self.data(page, space: space, loggedIn: true))
    }

    static func form(_ page: PageContext, space: Space, online: Bool) -> String {
        let limit = ByteCount.text(space.maxUploadBytes)
        var fields = ""
        if space.enablePrompt {
            fields += "<div class=\"field\"><label for=\"field-prompt\">\(page.h(.prompt))</label>"
                + "<textarea name=\"prompt\" id=\"field-prompt\" rows=\"4\" maxlength=\"\(Submission.maxPromptLength)\"></textarea></div>"
        }
        if space.enableAudio {
            fields += HTML.input("audio_url", page.t(.audioURL), type: "url", attributes: "placeholder=\"https://\"")
            fields += self.fileField("audio_file", page.t(.audioFile), accept: "audio/*", page: page, limit: limit)
        }
        if space.enableVideo {
            fields += self.fileField("video_file", page.t(.videoFile), accept: "video/*", page: page, limit: limit)
        }
        if space.enableFileUpload {
            fields += self.fileField("other_file", page.t(.otherFile), accept: nil, page: page, limit: limit)
        }
        if fields.isEmpty { return "<p class=\"muted\">\(page.h(.noInputsEnabled))</p>" }
        return """
            <form id="submit-form" method="post" action="/websockets/submit/\(space.id)" enctype="multipart/form-data"
             data-max-bytes="\(space.maxUploadBytes)" novalidate>
            \(fields)
            <p id="offline-note" class="notice"\(online ? " hidden" : "")>\(page.h(.offlineNote))</p>
            <div class="actions"><button type="submit" id="submit-button">\(page.h(.send))</button>
            <progress id="upload-progress" max="100" value="0" hidden aria-label="\(page.h(.uploadProgress))"></progress>
            <span id="upload-text" class="muted" aria-live="polite"></span></div>
            <p id="form-error" class="error" role="alert" hidden></p>
            </form>
            """
    }

    private static func fileField(_ name: String, _ label: String, accept: String?, page: PageContext, limit: String) -> String {
        let id = "field-\(name)"
        return """
            <div class="field"><label for="\(id)">\(HTML.escape(label))</label>
            <input type="file" name="\(name)" id="\(id)"\(accept.map { " accept=\"\($0)\"" } ?? "") aria-describedby="\(id)-hint">
            <p class="hint" id="\(id)-hint">\(page.h(.sizeLimit, ["size": limit]))</p></div>
            """
    }

    static func data(_ page: PageContext, space: Space, loggedIn: Bool) -> JSONValue {
        [
            "space_id": .int(space.id),
            "logged_in": .bool(loggedIn),
            "max_upload_bytes": .int(Int64(space.maxUploadBytes)),
            "language": .string(page.language.rawValue),
            "texts": Phrase.json(self.scriptPhrases, page.language),
        ]
    }

    /// Phrases space.js needs.
    static let scriptPhrases: [Phrase] = [
        .workerOnline, .workerOffline, .waitingCount, .processingCount, .liveWebSocket, .livePolling, .liveConnecting,
        .liveUnavailable, .statusQueued, .statusProcessing, .statusCompleted, .statusFailed, .statusTimeout,
        .statusCanceled, .queuePosition, .elapsed, .cancel, .canceling, .resultDetails, .blockedLink, .download,
        .uploading, .sending, .fileTooLarge, .nothingToSend, .requestFailed, .networkError, .submittedAt,
    ]
}

/// Human sizes for limits ("50 MB").
enum ByteCount {
    static func text(_ bytes: Int) -> String {
        if bytes >= 1024 * 1024 * 1024, bytes % (1024 * 1024 * 1024) == 0 { return "\(bytes / (1024 * 1024 * 1024)) GB" }
        if bytes >= 1024 * 1024 { return "\(Self.oneDecimal(Double(bytes) / 1_048_576)) MB" }
        if bytes >= 1024 { return "\(Self.oneDecimal(Double(bytes) / 1024)) KB" }
        return "\(bytes) B"
    }

    private static func oneDecimal(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
