import EngineIO
import HTTPKit
import SocketIO

/// HTML escaping and the page shell every page shares: header with navigation and the language switch, the
/// stylesheet, page scripts, and the headers that keep worker content inert (CSP without inline scripts).
enum HTML {
    /// Escapes text for element content and quoted attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Text for a `<script type="application/json">` block: `<` escaped so that no value can close the block.
    static func jsonScriptText(_ value: JSONValue) -> String {
        String(decoding: JSONSerializer.serialize(value), as: UTF8.self).replacingOccurrences(of: "<", with: "\\u003c")
    }

    /// Scripts may come from this site only; images and media from anywhere over http(s) (worker results link
    /// to their own hosts), images also as data URLs; nothing may frame the site.
    static let contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; "
        + "img-src 'self' data: http: https:; media-src 'self' data: http: https:; connect-src 'self' ws: wss:; "
        + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    /// A whole page as a response. `title` is plain text; `body` is HTML built with escaped values; `scripts`
    /// are names under `/static/`; `data` is handed to them as JSON (`#page-data`).
    static func page(_ page: PageContext, title: String, body: String, scripts: [String] = [], data: JSONValue? = nil,
                     status: Int = 200) -> HTTPResponse {
        var html = """
            <!doctype html>
            <html lang="\(page.language.rawValue)"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(self.escape(title)) · \(page.h(.siteName))</title>
            <link rel="stylesheet" href="\(StaticAssets.url("spaces.css"))"><link rel="icon" href="data:,">
            </head><body>
            <a class="skip-link" href="#main">\(page.h(.skipToContent))</a>
            \(self.header(page))
            <main id="main" tabindex="-1">
            \(body)
            </main>
            """
        if let data { html += "<script type=\"application/json\" id=\"page-data\">\(self.jsonScriptText(data))</script>\n" }
        for script in scripts { html += "<script src=\"\(StaticAssets.url(script))\" defer></script>\n" }
        html += "</body></html>\n"
        var response = HTTPResponse.html(html, status: status)
        response.headers.set("Content-Security-Policy", self.contentSecurityPolicy)
        response.headers.set("X-Content-Type-Options", "nosniff")
        response.headers.set("Referrer-Policy", "same-origin")
        response.headers.set("Content-Language", page.language.rawValue)
        response.headers.set("Vary", "Accept-Language, Cookie")
        response.headers.set("Cache-Control", "no-store")
        return response
    }

    private static func header(_ page: PageContext) -> String {
        var links = "<a href=\"/\"\(page.path == "/" ? " aria-current=\"page\"" : "")>\(page.h(.spaces))</a>"
        if let user = page.user {
            if user.isAdmin {
                links += "<a href=\"/admin\"\(page.path.hasPrefix("/admin") ? " aria-current=\"page\"" : "")>\(page.h(.admin))</a>"
            }
            links += "<span class=\"who\">\(page.h(.signedInAs, ["name": user.username]))</span>"
            links += "<form method=\"post\" action=\"/logout\" class=\"inline\"><button type=\"submit\" class=\"link\">\(page.h(.logOut))</button></form>"
        } else {
            let next = self.escape(Self.percentEncode(page.path))
            links += "<a href=\"/login?next=\(next)\">\(page.h(.logIn))</a><a href=\"/register\">\(page.h(.register))</a>"
        }
        let switcher = Language.allCases.map { language in
            let current = language == page.language ? " aria-current=\"true\"" : ""
            return "<a href=\"/lang/\(language.rawValue)?next=\(self.escape(Self.percentEncode(page.path)))\" "
                + "hreflang=\"\(language.rawValue)\" lang=\"\(language.rawValue)\"\(current)>\(language.nativeName)</a>"
        }.joined()
        return """
            <header class="top"><a class="brand" href="/">\(page.h(.siteName))</a>
            <nav aria-label="\(page.h(.mainNavigation))">\(links)</nav>
            <nav class="lang-switch" aria-label="\(page.h(.language))">\(switcher)</nav></header>
            """
    }

    /// Percent-encodes a path and query for use as a `next=` parameter.
    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let c = Character(UnicodeScalar(byte))
            if (c.isASCII && (c.isLetter || c.isNumber)) || "-._~/".contains(c) {
                out.append(c)
            } else {
                out += "%" + String(String(byte, radix: 16, uppercase: true).leftPadded(to: 2))
            }
        }
        return out
    }

    /// A checkbox with its label.
    static func checkbox(_ name: String, _ label: String, checked: Bool) -> String {
        "<label class=\"check\"><input type=\"checkbox\" name=\"\(name)\" id=\"field-\(name)\"\(checked ? " checked" : "")> \(self.escape(label))</label>"
    }

    /// A labelled input; `hint` is shown under it and read by screen readers.
    static func input(_ name: String, _ label: String, value: String = "", type: String = "text", hint: String? = nil,
                      attributes: String = "") -> String {
        let id = "field-\(name)"
        let described = hint == nil ? "" : " aria-describedby=\"\(id)-hint\""
        var html = "<div class=\"field\"><label for=\"\(id)\">\(self.escape(label))</label>"
            + "<input type=\"\(type)\" name=\"\(name)\" id=\"\(id)\" value=\"\(self.escape(value))\"\(described) \(attributes)>"
        if let hint { html += "<p class=\"hint\" id=\"\(id)-hint\">\(self.escape(hint))</p>" }
        return html + "</div>"
    }

    /// An error box screen readers announce.
    static func errorBox(_ message: String?) -> String {
        guard let message else { return "" }
        return "<p class=\"error\" role=\"alert\" id=\"form-error\">\(self.escape(message))</p>"
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        self.count >= width ? self : String(repeating: "0", count: width - self.count) + self
    }
}
