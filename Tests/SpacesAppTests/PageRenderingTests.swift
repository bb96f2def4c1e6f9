import EngineIO
import HTTPKit
import SocketIO
@testable import SpacesApp
import XCTest

final class PageRenderingTests: XCTestCase {
    private let visitor = PageContext(language: .english, user: nil, path: "/ai_project/1?x=<y>")

    private func html(_ response: HTTPResponse) -> String {
        guard case .bytes(let bytes) = response.body else { return "" }
        return String(decoding: bytes, as: UTF8.self)
    }

    func testValuesFromUsersAreEscapedEverywhere() {
        var space = Space(name: "<img src=x onerror=alert(1)>", cardType: .websockets)
        space.id = 7
        space.description = "\"quoted\" & <b>bold</b>"
        space.enablePrompt = true
        let (body, _) = SpacePage.render(self.visitor, space: space, state: ["connected": true, "queue_size": 2])
        XCTAssertFalse(body.contains("<img src=x"))
        XCTAssertTrue(body.contains("&lt;img src=x onerror=alert(1)&gt;"))
        XCTAssertTrue(body.contains("&quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt;"))
        let page = self.html(HTML.page(self.visitor, title: space.name, body: body))
        XCTAssertTrue(page.contains("<title>&lt;img src=x onerror=alert(1)&gt; · SpacesApp</title>"))
        XCTAssertFalse(page.contains("x=<y>"), "the current path is encoded in links")
    }

    func testPageDataCannotCloseItsScriptBlock() {
        let text = HTML.jsonScriptText(["a": "</script><script>alert(1)</script>"])
        XCTAssertFalse(text.contains("<"))
        XCTAssertEqual(try JSONParser.parse(Array(text.utf8)), ["a": "</script><script>alert(1)</script>"])
    }

    func testPagesForbidInlineScriptsAndFraming() {
        let response = HTML.page(self.visitor, title: "t", body: "", scripts: ["space.js"])
        let policy = response.headers["Content-Security-Policy"] ?? ""
        XCTAssertTrue(policy.contains("script-src 'self'"))
        XCTAssertFalse(policy.contains("unsafe-inline"))
        XCTAssertTrue(policy.contains("frame-ancestors 'none'"))
        XCTAssertEqual(response.headers["Content-Language"], "en")
        XCTAssertTrue(self.html(response).contains("<script src=\"/static/space.js?v=\(StaticAssets.files["space.js"]?.version ?? "")\" defer>"))
    }

    func testLoggedOutVisitorsGetALogInPromptAndNoForm() {
        var space = Space(name: "Echo", cardType: .websockets)
        space.id = 3
        space.enablePrompt = true
        let (body, data) = SpacePage.render(self.visitor, space: space, state: ["connected": false])
        XCTAssertTrue(body.contains("id=\"login-prompt\""))
        XCTAssertTrue(body.contains("/login?next=/ai_project/3"))
        XCTAssertFalse(body.contains("submit-form"))
        XCTAssertEqual(data["logged_in"], false)
    }

    func testTheFormOffersExactlyTheEnabledInputsWithTheirLimit() {
        let user = User(id: 1, username: "u", passwordHash: "", isAdmin: false, dailyQuota: 0, createdAt: 0)
        let page = PageContext(language: .chinese, user: user, path: "/")
        var space = Space(name: "Audio", cardType: .websockets)
        space.enableAudio = true
        space.maxUploadBytes = 3 * 1024 * 1024 / 2
        let (body, _) = SpacePage.render(page, space: space, state: ["connected": true])
        XCTAssertTrue(body.contains("name=\"audio_url\""))
        XCTAssertTrue(body.contains("name=\"audio_file\""))
        XCTAssertFalse(body.contains("name=\"prompt\""))
        XCTAssertFalse(body.contains("name=\"video_file\""))
        XCTAssertFalse(body.contains("name=\"other_file\""))
        XCTAssertTrue(body.contains("最大 1.5 MB。"))
        XCTAssertTrue(body.contains("data-max-bytes=\"1572864\""))
    }

    func testWorkerCommandsAreShellQuotedAndCarryTheToken() {
        XCTAssertEqual(SpaceAdminPage.shellQuoted("a \"b\" $c `d` \\e"), "\"a \\\"b\\\" \\$c \\`d\\` \\\\e\"")
        var space = Space(name: "My \"GPU\" box", cardType: .websockets)
        space.workerToken = "s3cret"
        let html = SpaceAdminPage.workerCommands(self.visitor, space: space, baseURL: "http://h:5001")
        XCTAssertTrue(html.contains("python mock_app.py --host &quot;http://h:5001&quot; --spaces &quot;My \\&quot;GPU\\&quot; box&quot;"))
        XCTAssertTrue(html.contains("spaces-worker --host &quot;http://h:5001&quot; --spaces &quot;My \\&quot;GPU\\&quot; box&quot; --token &quot;s3cret&quot;"))
    }

    func testByteCountsReadLikeLimits() {
        XCTAssertEqual(ByteCount.text(50 * 1024 * 1024), "50 MB")
        XCTAssertEqual(ByteCount.text(1536), "1.5 KB")
        XCTAssertEqual(ByteCount.text(10 * 1024 * 1024 * 1024), "10 GB")
        XCTAssertEqual(ByteCount.text(12), "12 B")
    }

    func testStaticAssetsAreEmbeddedAndVersioned() {
        for name in ["spaces.css", "live.js", "space.js", "home.js", "admin.js"] {
            let asset = StaticAssets.files[name]
            XCTAssertNotNil(asset, name)
            XCTAssertGreaterThan(asset?.bytes.count ?? 0, 500, name)
            XCTAssertTrue(StaticAssets.url(name).hasPrefix("/static/\(name)?v="))
        }
    }
}
