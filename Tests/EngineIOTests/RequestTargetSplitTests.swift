import XCTest

@testable import HTTPKit

/// `HTTPRequestHead.path` and `rawQuery` find the `?` in the target's bytes; they must split every target
/// where a Character-wise search for `?` does, non-ASCII ones included.
final class RequestTargetSplitTests: XCTestCase {
    func testSplitsWhereTheCharacterSearchDoes() {
        for target in [
            "/socket.io/?EIO=4&transport=polling&sid=abc", "/socket.io/", "/?", "?", "?a", "/a?b?c", "",
            "/caf\u{E9}?q=\u{E9}", "/\u{E9}?", "?\u{E9}",
            // A combining mark joins the first `?` into a Character that is not `?`: the second one splits.
            "/a?\u{301}b?c", "/a?\u{301}",
            // A prepended mark (Arabic number sign) takes the `?` after it into its Character.
            "/\u{600}?x?y",
        ] {
            let mark = target.firstIndex(of: "?")
            let path = mark.map { target[..<$0] } ?? Substring(target)
            let query = mark.map { target[target.index(after: $0)...] } ?? ""
            let head = HTTPRequestHead(method: "GET", target: target)
            XCTAssertEqual(String(head.path), String(path), "path of \(target.debugDescription)")
            XCTAssertEqual(String(head.rawQuery), String(query), "query of \(target.debugDescription)")
        }
    }
}
