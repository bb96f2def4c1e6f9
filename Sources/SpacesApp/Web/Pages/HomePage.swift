import SocketIO

/// `/`: the spaces as cards: cover, name, description, and for remote-worker spaces whether a worker is
/// online and how many requests wait (kept live by home.js).
enum HomePage {
    struct Card: Sendable {
        let space: Space
        let workers: Int
        let waiting: Int
    }

    static func render(_ page: PageContext, cards: [Card]) -> (body: String, data: JSONValue) {
        var body = "<div class=\"page-head\"><h1>\(page.h(.spaces))</h1><p class=\"muted\">\(page.h(.homeIntro))</p></div>"
        if cards.isEmpty {
            body += "<p class=\"empty\">\(page.h(.noSpacesYet))</p>"
            if page.user?.isAdmin == true {
                body += "<p><a class=\"button\" href=\"/admin/space/add\">\(page.h(.newSpace))</a></p>"
            }
        }
        body += "<ul class=\"cards\" id=\"space-cards\">"
        for card in cards { body += self.card(card, page) }
        body += "</ul>"
        let ids: [JSONValue] = cards.filter { $0.space.isWebsockets }.map { .int($0.space.id) }
        return (body, ["spaces": .array(ids), "texts": Phrase.json(self.scriptPhrases, page.language)])
    }

    /// Phrases home.js needs.
    static let scriptPhrases: [Phrase] = [.online, .offline, .waitingCount]

    static func card(_ card: Card, _ page: PageContext) -> String {
        let space = card.space
        let cover: String
        if let image = space.coverImage {
            cover = "<img class=\"cover\" src=\"/covers/\(HTML.escape(image))\" alt=\"\" loading=\"lazy\">"
        } else {
            // A stable colour per space, so cards without a cover are still told apart.
            cover = "<div class=\"cover placeholder hue-\(Int(space.id % 8))\" aria-hidden=\"true\">"
                + "\(HTML.escape(String(space.name.prefix(1)).uppercased()))</div>"
        }
        var status = ""
        if space.isWebsockets {
            let online = card.workers > 0
            status = "<p class=\"card-status\"><span class=\"badge \(online ? "online" : "offline")\" data-role=\"worker-state\">"
                + "\(page.h(online ? .online : .offline))</span> "
                + "<span class=\"muted\" data-role=\"waiting\">\(page.h(.waitingCount, ["count": String(card.waiting)]))</span></p>"
        }
        let description = space.description.count > 180 ? String(space.description.prefix(177)) + "…" : space.description
        return """
            <li class="card" data-space-id="\(space.id)"><a href="/ai_project/\(space.id)">\(cover)
            <div class="card-body"><h2>\(HTML.escape(space.name))</h2>
            <p class="card-kind">\(page.h(space.isWebsockets ? .remoteWorkerSpace : .standardSpace))</p>
            <p class="description">\(HTML.escape(description))</p>\(status)</div></a></li>
            """
    }
}
