/// HTML escaping and the minimal page shell the server renders (the next issue makes the pages good).
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

    /// A whole page: `title` is escaped, `body` is HTML the caller built with escaped values.
    static func page(title: String, user: User?, body: String) -> String {
        let nav: String
        if let user {
            nav = "<a href=\"/\">Spaces</a>" + (user.isAdmin ? " · <a href=\"/admin\">Admin</a>" : "")
                + " · signed in as <b>\(self.escape(user.username))</b> · <a href=\"/logout\">Log out</a>"
        } else {
            nav = "<a href=\"/\">Spaces</a> · <a href=\"/login\">Log in</a> · <a href=\"/register\">Register</a>"
        }
        return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(self.escape(title))</title>
        <style>body{font-family:system-ui,sans-serif;max-width:52rem;margin:1rem auto;padding:0 1rem}
        label{display:block;margin:.4rem 0}input[type=text],input[type=password],input[type=number],textarea{width:100%}
        .error{color:#b00}.muted{color:#666}pre{white-space:pre-wrap;background:#f4f4f4;padding:.5rem}</style>
        </head><body><nav>\(nav)</nav><main>
        \(body)
        </main></body></html>
        """
    }

    /// A checkbox input, checked or not.
    static func checkbox(_ name: String, _ label: String, checked: Bool) -> String {
        "<label><input type=\"checkbox\" name=\"\(name)\"\(checked ? " checked" : "")> \(self.escape(label))</label>"
    }

    /// A text-like input with a label.
    static func input(_ name: String, _ label: String, value: String = "", type: String = "text") -> String {
        "<label>\(self.escape(label)) <input type=\"\(type)\" name=\"\(name)\" value=\"\(self.escape(value))\"></label>"
    }
}
