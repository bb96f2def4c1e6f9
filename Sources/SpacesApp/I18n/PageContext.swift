/// Who a page is rendered for: language, user and the current path (for the language switch and log-in links).
struct PageContext: Sendable {
    let language: Language
    let user: User?
    let path: String

    /// The phrase in the page's language, `{name}` placeholders filled in (plain text).
    func t(_ phrase: Phrase, _ arguments: [String: String] = [:]) -> String {
        phrase.text(self.language, arguments)
    }

    /// The phrase escaped for HTML.
    func h(_ phrase: Phrase, _ arguments: [String: String] = [:]) -> String {
        HTML.escape(self.t(phrase, arguments))
    }
}
