import EngineIO
import HTTPKit
import SocketIO
@testable import SpacesApp
import XCTest

final class LocalizationTests: XCTestCase {
    private func negotiate(_ headers: [(String, String)]) -> Language {
        Language.negotiate(HTTPHeaders(headers))
    }

    func testAcceptLanguagePicksTheBestSupportedTag() {
        XCTAssertEqual(negotiate([]), .english)
        XCTAssertEqual(negotiate([("Accept-Language", "zh-CN,zh;q=0.9,en;q=0.8")]), .chinese)
        XCTAssertEqual(negotiate([("Accept-Language", "fr-FR, en;q=0.5, zh;q=0.4")]), .english)
        XCTAssertEqual(negotiate([("Accept-Language", "en;q=0.2, zh-Hans;q=0.9")]), .chinese)
        XCTAssertEqual(negotiate([("Accept-Language", "zh-TW")]), .english, "traditional Chinese is not served as simplified")
        XCTAssertEqual(negotiate([("Accept-Language", "zh;q=0, en")]), .english, "q=0 means not acceptable")
        XCTAssertEqual(negotiate([("Accept-Language", "de, fr")]), .english)
        XCTAssertEqual(negotiate([("Accept-Language", ";;,q=,zh-CN;q=abc")]), .english, "garbage does not crash")
    }

    func testTheSwitchCookieWinsOverAcceptLanguage() {
        XCTAssertEqual(negotiate([("Accept-Language", "zh-CN"), ("Cookie", "spaces_lang=en")]), .english)
        XCTAssertEqual(negotiate([("Accept-Language", "en-US"), ("Cookie", "a=b; spaces_lang=zh-CN")]), .chinese)
        XCTAssertEqual(negotiate([("Accept-Language", "zh-CN"), ("Cookie", "spaces_lang=klingon")]), .chinese)
        XCTAssertEqual(Language.chinese.cookie.headerValue.hasPrefix("spaces_lang=zh-CN; Path=/"), true)
    }

    func testEveryPhraseHasAChineseText() {
        let missing = Phrase.allCases.filter { Phrase.chinese[$0] == nil }
        XCTAssertEqual(missing, [], "untranslated phrases")
        // Placeholders must survive translation, or the page would show `{count}` or drop the number.
        for phrase in Phrase.allCases {
            let english = Self.placeholders(phrase.rawValue)
            XCTAssertEqual(Self.placeholders(phrase.text(.chinese)), english, "placeholders of \(phrase)")
        }
    }

    func testPlaceholdersAreFilled() {
        XCTAssertEqual(Phrase.waitingCount.text(.english, ["count": "3"]), "3 waiting")
        XCTAssertEqual(Phrase.waitingCount.text(.chinese, ["count": "3"]), "3 个排队中")
        XCTAssertEqual(Phrase.json([.cancel], .chinese), ["cancel": "取消"])
    }

    func testAPIErrorsAreTranslatedByCodeWithTheirValues() {
        let rate = APIError(429, "rate_limited", "Please wait 7 seconds before submitting again",
                            extra: ["retry_after": .int(7)])
        XCTAssertEqual(APIMessages.localized(rate, .chinese).message, "请等待 7 秒后再提交")
        XCTAssertEqual(APIMessages.localized(rate, .english), rate)
        let field = APIError.badRequest("invalid_max_workers", "max_workers must be a whole number in 1...1000")
        XCTAssertEqual(APIMessages.localized(field, .chinese).message, "输入无效：max_workers must be a whole number in 1...1000")
        let unknown = APIError(418, "teapot", "short and stout")
        XCTAssertEqual(APIMessages.localized(unknown, .chinese), unknown, "no translation: the English message stays")
        XCTAssertEqual(APIMessages.localized(rate, .chinese).response.status, 429)
    }

    private static func placeholders(_ text: String) -> Set<String> {
        var names = Set<String>()
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            names.insert(String(rest[open...close]))
            rest = rest[rest.index(after: close)...]
        }
        return names
    }
}
