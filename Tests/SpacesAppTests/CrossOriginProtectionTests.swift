import EngineIO
import HTTPKit
@testable import SpacesApp
import XCTest

final class CrossOriginProtectionTests: XCTestCase {
    private func allows(_ method: String, _ headers: [(String, String)]) -> Bool {
        CrossOriginProtection.allows(method: method, headers: HTTPHeaders(headers))
    }

    func testSafeMethodsAlwaysPass() {
        XCTAssertTrue(allows("GET", [("Sec-Fetch-Site", "cross-site")]))
        XCTAssertTrue(allows("HEAD", [("Origin", "http://evil.example")]))
        XCTAssertTrue(allows("OPTIONS", [("Sec-Fetch-Site", "cross-site")]))
    }

    func testSecFetchSiteDecides() {
        XCTAssertTrue(allows("POST", [("Sec-Fetch-Site", "same-origin"), ("Origin", "http://evil.example")]))
        XCTAssertTrue(allows("POST", [("Sec-Fetch-Site", "none")]))
        XCTAssertFalse(allows("POST", [("Sec-Fetch-Site", "cross-site")]))
        XCTAssertFalse(allows("POST", [("Sec-Fetch-Site", "same-site")]))
    }

    func testOriginMustMatchHostWithoutSecFetchSite() {
        XCTAssertTrue(allows("POST", []), "scripts send neither header")
        XCTAssertTrue(allows("POST", [("Host", "spaces.example:5001"), ("Origin", "http://spaces.example:5001")]))
        XCTAssertFalse(allows("POST", [("Host", "spaces.example:5001"), ("Origin", "http://evil.example")]))
        XCTAssertFalse(allows("DELETE", [("Host", "spaces.example"), ("Origin", "null")]))
    }
}
