@testable import EngineIO
@testable import HTTPKit
import XCTest

final class URLEncodedFormTests: XCTestCase {
    func testPairsKeepOrderAndDecodePlusAndPercent() {
        let query = QueryParameters(parsing: "a=1&b=x+y%20z&a=2")
        XCTAssertEqual(query.pairs.map(\.name), ["a", "b", "a"])
        XCTAssertEqual(query["a"], "1")
        XCTAssertEqual(query.values("a"), ["1", "2"])
        XCTAssertEqual(query["b"], "x y z")
        XCTAssertNil(query["c"])
    }

    func testEmptyPiecesAreSkippedAndMissingValuesAreEmpty() {
        let query = QueryParameters(parsing: "&&flag&=v&k=&x==y")
        XCTAssertEqual(query.pairs.map(\.name), ["flag", "", "k", "x"])
        XCTAssertEqual(query["flag"], "")
        XCTAssertTrue(query.contains("flag"))
        XCTAssertEqual(query[""], "v")
        XCTAssertEqual(query["x"], "=y", "only the first = separates")
    }

    func testInvalidPercentEscapesStayLiteral() {
        let query = QueryParameters(parsing: "p=100%&q=%zz&r=%4&s=%%41")
        XCTAssertEqual(query["p"], "100%")
        XCTAssertEqual(query["q"], "%zz")
        XCTAssertEqual(query["r"], "%4")
        XCTAssertEqual(query["s"], "%A")
    }

    func testUTF8IsDecodedAndInvalidUTF8IsReplaced() {
        XCTAssertEqual(QueryParameters(parsing: "n=%C3%A9t%C3%A9")["n"], "été")
        XCTAssertEqual(QueryParameters(parsing: "n=%FF%C3")["n"], "\u{FFFD}\u{FFFD}")
        XCTAssertEqual(QueryParameters(parsing: "%E2%9C%93=ok")["✓"], "ok")
    }

    func testTypedHelpers() {
        let query = QueryParameters(parsing: "n=42&b=true&x=no&bad=4x")
        XCTAssertEqual(query.int("n"), 42)
        XCTAssertNil(query.int("bad"))
        XCTAssertEqual(query.bool("b"), true)
        XCTAssertEqual(query.bool("x"), false)
        XCTAssertNil(query.bool("n"))
        XCTAssertEqual(query.dictionary["n"], "42")
    }

    func testFormBodyRoundTripsThroughSerialization() {
        let pairs = [("name", "Zoë & co"), ("math", "1+1=2"), ("empty", "")]
        let body = URLEncodedForm.serialize(pairs)
        XCTAssertEqual(String(decoding: body, as: UTF8.self), "name=Zo%C3%AB+%26+co&math=1%2B1%3D2&empty=")
        XCTAssertEqual(URLEncodedForm.parse(body), QueryParameters(pairs))
    }

    func testFormBodiesParseLikeTheirQueryStrings() {
        let cases: [[UInt8]] = [
            [], Array("&".utf8), Array("=".utf8), Array("prompt=benchmark".utf8), Array("a=1&&b&=c&d=e=f&".utf8),
            Array("x=a+b%2Bc%zz%4".utf8), Array("n=\u{E9}t\u{E9}&m=%C3%A9".utf8),
        ]
        for body in cases {
            let text = String(decoding: body, as: UTF8.self)
            XCTAssertEqual(URLEncodedForm.parse(body), QueryParameters(parsing: text), text)
            XCTAssertEqual(URLEncodedForm.parse(body[...]), QueryParameters(parsing: text[...]), text)
        }
        XCTAssertEqual(URLEncodedForm.parse(Array("prompt=benchmark".utf8)).pairs.map(\.value), ["benchmark"])
        XCTAssertEqual(URLEncodedForm.parse(Array("=".utf8)).pairs.map(\.name), [""])
    }

    /// Raw bytes are repaired as UTF-8 before escapes are decoded: a raw lead byte does not join a decoded
    /// continuation byte.
    func testInvalidRawUTF8IsReplacedBeforeEscapesAreDecoded() {
        let body: [UInt8] = Array("v=".utf8) + [0xC3] + Array("%A9&w=".utf8) + [0xFF]
        let form = URLEncodedForm.parse(body)
        XCTAssertEqual(form["v"], "\u{FFFD}\u{FFFD}")
        XCTAssertEqual(form["w"], "\u{FFFD}")
    }

    func testContentTypeMatchingIgnoresParametersAndCase() {
        XCTAssertTrue(URLEncodedForm.matches(contentType: "application/x-www-form-urlencoded; charset=UTF-8"))
        XCTAssertTrue(URLEncodedForm.matches(contentType: "Application/X-WWW-Form-URLEncoded"))
        XCTAssertFalse(URLEncodedForm.matches(contentType: "multipart/form-data; boundary=x"))
        XCTAssertFalse(URLEncodedForm.matches(contentType: nil))
    }

    func testPercentDecodingOfPathsKeepsPlus() {
        XCTAssertEqual(PercentDecoding.decode("a+b%2Fc"), "a+b/c")
        XCTAssertEqual(PercentDecoding.decode("a+b", plusAsSpace: true), "a b")
        XCTAssertEqual(PercentEncoding.encodeComponent("a b/ü"), "a%20b%2F%C3%BC")
        XCTAssertEqual(PercentEncoding.encodePathSegment("a b:c"), "a%20b:c")
    }

    func testHeaderValueParametersHandleQuotesAndEscapes() {
        let value = HeaderValue("form-data; name=\"a;b\"; filename=\"x\\\"y.txt\"; size=3")
        XCTAssertEqual(value.value, "form-data")
        XCTAssertEqual(value.parameter("NAME"), "a;b")
        XCTAssertEqual(value.parameter("filename"), "x\"y.txt")
        XCTAssertEqual(value.parameter("size"), "3")
        let extended = HeaderValue("attachment; filename=\"plain.txt\"; filename*=UTF-8''na%C3%AFve.txt")
        XCTAssertEqual(extended.extendedParameter("filename"), "naïve.txt")
        XCTAssertEqual(HeaderValue.list("gzip;q=0.5, br , *;q=0").map(\.value), ["gzip", "br", "*"])
    }
}
