import EngineIO
import HTTPKit

/// The languages of the site: pages, API error messages and the page scripts' texts.
enum Language: String, Sendable, CaseIterable {
    case english = "en"
    case chinese = "zh-CN"

    /// Cookie that keeps the visitor's choice from the language switch.
    static let cookieName = "spaces_lang"

    /// The visitor's language: the switch's cookie first, then `Accept-Language` (by q-value), then English.
    static func negotiate(_ headers: HTTPHeaders) -> Language {
        if let chosen = Cookies.parse(headers)[self.cookieName], let language = self.parse(chosen) { return language }
        guard let header = headers["Accept-Language"] else { return .english }
        return self.fromAcceptLanguage(header) ?? .english
    }

    /// The best supported language of an `Accept-Language` value (`zh-CN,zh;q=0.9,en;q=0.8`), or nil.
    static func fromAcceptLanguage(_ header: String) -> Language? {
        var best: (language: Language, quality: Double)?
        for (index, item) in header.split(separator: ",").prefix(32).enumerated() {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = parts.first, let language = self.parse(tag) else { continue }
            var quality = 1.0
            for parameter in parts.dropFirst() where parameter.lowercased().hasPrefix("q=") {
                quality = Double(parameter.dropFirst(2)) ?? 0
            }
            // Earlier items win ties, as the header lists them by preference.
            let adjusted = quality - Double(index) * 1e-6
            if quality > 0, adjusted > (best?.quality ?? -1) { best = (language, adjusted) }
        }
        return best?.language
    }

    /// A language tag we serve: any `zh` except the traditional variants reads as Simplified Chinese.
    static func parse(_ tag: String) -> Language? {
        let lower = tag.trimmingCharacters(in: .whitespaces).lowercased()
        if lower == "en" || lower.hasPrefix("en-") { return .english }
        if lower == "zh" || lower.hasPrefix("zh-") {
            let traditional = ["zh-tw", "zh-hk", "zh-mo", "zh-hant"].contains { lower.hasPrefix($0) }
            return traditional ? nil : .chinese
        }
        return nil
    }

    /// The name of the language in itself, for the switch.
    var nativeName: String {
        switch self {
        case .english: return "English"
        case .chinese: return "简体中文"
        }
    }

    /// `Set-Cookie` that keeps this choice for a year.
    var cookie: SetCookie {
        SetCookie(name: Self.cookieName, value: self.rawValue, path: "/", maxAge: 365 * 24 * 3600, sameSite: .lax)
    }
}
