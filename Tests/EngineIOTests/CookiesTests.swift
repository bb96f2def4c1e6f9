@testable import EngineIO
@testable import HTTPKit
import XCTest

final class CookiesTests: XCTestCase {
    func testCookieHeaderParsesIntoNameValuePairs() {
        let cookies = Cookies.parse("sid=abc123; theme=dark;lang=\"en-US\"; flag; empty=")
        XCTAssertEqual(cookies, ["sid": "abc123", "theme": "dark", "lang": "en-US", "empty": ""])
    }

    func testFirstOccurrenceWinsAndValuesAreNotDecoded() {
        let cookies = Cookies.parse(["a=1; a=2", "b=x%20y"])
        XCTAssertEqual(cookies["a"], "1")
        XCTAssertEqual(cookies["b"], "x%20y")
    }

    /// ASCII headers are parsed as bytes, others as characters: the same pairs either way.
    func testASCIIAndNonASCIIHeadersSplitTrimAndUnquoteAlike() {
        let header = " \tsid = \"v=1\" ;x=\"\";y=\";=z; ;q=\"a b\"\t; w = \t"
        let expected = ["sid": "v=1", "x": "", "y": "\"", "q": "a b", "w": ""]
        XCTAssertEqual(Cookies.parse(header), expected)
        var withAccent = expected
        withAccent["é"] = "ü"
        XCTAssertEqual(Cookies.parse(header + "; é = ü "), withAccent)
        XCTAssertEqual(Cookies.parse(["é=1; sid=\"2\"", "sid=3"]), ["é": "1", "sid": "2"])
    }

    func testCookiesFromRequestHeaders() {
        let headers: HTTPHeaders = ["Cookie": "a=1", "cookie": "b=2"]
        XCTAssertEqual(Cookies.parse(headers), ["a": "1", "b": "2"])
    }

    func testSetCookieWithAllAttributes() {
        let cookie = SetCookie(name: "sid", value: "abc", path: "/app", domain: "example.com", maxAge: 3600,
                               expires: Date(timeIntervalSince1970: 784_111_777), httpOnly: true, secure: true,
                               sameSite: .lax)
        XCTAssertEqual(cookie.headerValue, "sid=abc; Path=/app; Domain=example.com; Max-Age=3600; "
            + "Expires=Sun, 06 Nov 1994 08:49:37 GMT; Secure; HttpOnly; SameSite=Lax")
    }

    func testSameSiteNoneImpliesSecure() {
        let cookie = SetCookie(name: "a", value: "b", path: nil, sameSite: SetCookie.SameSite.none)
        XCTAssertEqual(cookie.headerValue, "a=b; Secure; SameSite=None")
    }

    func testUnsafeCharactersCannotInjectAttributes() {
        let cookie = SetCookie(name: "n;a me", value: "v; Path=/evil\r\n", path: "/x;Domain=evil\n")
        XCTAssertEqual(cookie.headerValue, "name=v%3B%20Path=/evil%0D%0A; Path=/xDomain=evil")
    }

    func testDeletionCookieExpiresImmediately() {
        XCTAssertEqual(SetCookie.deletion(name: "sid").headerValue,
                       "sid=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
    }

    func testResponseCanCarrySeveralSetCookieHeaders() {
        var response = HTTPResponse()
        response.setCookie(SetCookie(name: "a", value: "1"))
        response.setCookie(SetCookie(name: "b", value: "2"))
        XCTAssertEqual(response.headers.values("Set-Cookie"), ["a=1; Path=/", "b=2; Path=/"])
    }
}
