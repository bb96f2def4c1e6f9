/// `/admin/space/add` and `/admin/space/edit/<id>`: the space form (shown again with the error and the values
/// typed when they do not pass), and for saved remote-worker spaces the commands that start a worker.
enum SpaceAdminPage {
    static func add(_ page: PageContext, space: Space, error: String?) -> String {
        "<h1>\(page.h(.newSpace))</h1>" + HTML.errorBox(error)
            + SpaceForm.html(page, action: "/admin/space/add", space: space, submitLabel: page.t(.createSpace))
    }

    static func edit(_ page: PageContext, space: Space, baseURL: String, error: String?, saved: Bool) -> String {
        var body = "<div class=\"page-head\"><h1>\(page.h(.editSpace, ["name": space.name]))</h1>"
            + "<p><a href=\"/ai_project/\(space.id)\">\(page.h(.openSpacePage))</a></p></div>"
        if saved { body += "<p class=\"notice success\" role=\"status\" id=\"saved-note\">\(page.h(.saved))</p>" }
        body += HTML.errorBox(error)
        if space.isWebsockets { body += self.workerCommands(page, space: space, baseURL: baseURL) }
        body += "<section class=\"panel\"><h2>\(page.h(.settings))</h2>"
            + SpaceForm.html(page, action: "/admin/space/edit/\(space.id)", space: space, submitLabel: page.t(.save))
            + "</section>"
        body += """
            <section class="panel danger"><h2>\(page.h(.deleteSpace))</h2><p>\(page.h(.deleteSpaceHint))</p>
            <form method="post" action="/admin/space/delete/\(space.id)" data-confirm="\(page.h(.deleteSpaceConfirm, ["name": space.name]))">
            <button type="submit" class="danger" id="delete-space">\(page.h(.deleteSpace))</button></form></section>
            """
        return body
    }

    /// The command lines of the original Python worker and of ours, ready to copy.
    static func workerCommands(_ page: PageContext, space: Space, baseURL: String) -> String {
        let token = space.workerToken ?? ""
        let python = "python mock_app.py --host \(self.shellQuoted(baseURL)) --spaces \(self.shellQuoted(space.name))"
        var swift = "spaces-worker --host \(self.shellQuoted(baseURL)) --spaces \(self.shellQuoted(space.name))"
        if !token.isEmpty { swift += " --token \(self.shellQuoted(token))" }
        var html = "<section class=\"panel\" aria-labelledby=\"run-title\"><h2 id=\"run-title\">\(page.h(.runAWorker))</h2>"
            + "<p>\(page.h(.runAWorkerHint))</p>"
        html += self.commandBlock(id: "worker-command-python", label: page.t(.pythonWorker), command: python, page: page)
        if !token.isEmpty { html += "<p class=\"notice\">\(page.h(.pythonWorkerTokenNote))</p>" }
        html += self.commandBlock(id: "worker-command-swift", label: page.t(.swiftWorker), command: swift, page: page)
        return html + "</section>"
    }

    private static func commandBlock(id: String, label: String, command: String, page: PageContext) -> String {
        """
        <div class="command"><p class="command-label" id="\(id)-label">\(HTML.escape(label))</p>
        <pre><code id="\(id)" aria-labelledby="\(id)-label">\(HTML.escape(command))</code></pre>
        <button type="button" class="secondary copy" data-copy="\(id)" data-copied="\(page.h(.copied))">\(page.h(.copy))</button></div>
        """
    }

    /// `"text"` for a POSIX shell: inside double quotes only `\`, `"`, `$` and `` ` `` are special.
    static func shellQuoted(_ text: String) -> String {
        var out = "\""
        for character in text {
            if "\\\"$`".contains(character) { out.append("\\") }
            out.append(character)
        }
        return out + "\""
    }
}
