import XCTest

@testable import EngineIO
@testable import HTTPKit

/// `EngineQuery` reads `transport`, `EIO` and `sid` without building `QueryParameters` when the query is
/// plain ASCII; whatever it answers must be what `QueryParameters` answers for the same target.
final class EngineQueryTests: XCTestCase {
    private func assertAgrees(_ target: String, file: StaticString = #filePath, line: UInt = #line) {
        let reference = QueryParameters(parsing: HTTPRequestHead(method: "GET", target: target).rawQuery)
        let query = EngineQuery(target: target)
        for name in ["transport", "EIO", "sid"] {
            XCTAssertEqual(query[name], reference[name], "\(name) of \(target)", file: file, line: line)
        }
    }

    func testTypicalTargets() {
        for target in [
            "/socket.io/?EIO=4&transport=polling&t=Pabc123",
            "/socket.io/?EIO=4&transport=polling&t=Pabc123&sid=AbCdEfGhIjKlMnOpQrSt",
            "/socket.io/?EIO=4&transport=websocket&sid=xyz", "/engine.io/", "/engine.io/?", "/?&&EIO=3&&",
            "/?EIO", "/?EIO=", "/?=4", "/?sid=a&sid=b", "/?transport=polling&transport=websocket",
            "/?Transport=polling&eio=4&SID=x", "/?EIO=4=5&sid==x", "/?a=1&EIO=4#frag",
        ] {
            self.assertAgrees(target)
        }
    }

    /// A `%`, `+` or non-ASCII byte sends the query to `QueryParameters`, wherever it sits relative to the
    /// eight-byte words the fast check reads; in the path before `?` only non-ASCII does.
    func testSpecialBytesAtEveryOffset() {
        for special in ["%41", "+", "é", "%", "%2", "%zz"] {
            for length in 0..<20 {
                let filler = String(repeating: "a", count: length)
                self.assertAgrees("/?EIO=4&t=\(filler)\(special)&sid=s\(length)&transport=polling")
                self.assertAgrees("/?sid=\(filler)\(special)x&EIO=4")
                self.assertAgrees("/p\(filler)\(special)/?EIO=4&sid=q")
            }
        }
    }
}
