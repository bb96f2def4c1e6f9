import Foundation
import XCTest
@testable import SocketIO

final class JSONValueTests: XCTestCase {
    func testLiteralsBuildTheExpectedCases() {
        let value: JSONValue = ["s": "x", "i": 3, "d": 1.5, "b": true, "n": nil, "a": [1, "two"]]
        guard case let .object(object) = value else { return XCTFail("object") }
        XCTAssertEqual(object.keys, ["s", "i", "d", "b", "n", "a"])
        XCTAssertEqual(object["s"], .string("x"))
        XCTAssertEqual(object["i"], .int(3))
        XCTAssertEqual(object["d"], .double(1.5))
        XCTAssertEqual(object["b"], .bool(true))
        XCTAssertEqual(object["n"], .null)
        XCTAssertEqual(object["a"], .array([.int(1), .string("two")]))
    }

    func testNumbersCompareByValueAcrossIntAndDouble() {
        XCTAssertEqual(JSONValue.int(1), JSONValue.double(1.0))
        XCTAssertNotEqual(JSONValue.int(1), JSONValue.double(1.5))
        XCTAssertEqual(Set<JSONValue>([.int(2), .double(2.0)]).count, 1)
        // Exact comparison: 2^53+1 is not the double 2^53.
        XCTAssertNotEqual(JSONValue.int(9_007_199_254_740_993), JSONValue.double(9_007_199_254_740_992))
    }

    func testObjectsCompareIgnoringKeyOrder() {
        let a: JSONValue = ["x": 1, "y": [true]]
        let b: JSONValue = ["y": [true], "x": 1]
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.hashValue, b.hashValue)
        XCTAssertNotEqual(a, ["x": 1])
        XCTAssertNotEqual(a, ["x": 1, "y": [false]])
        var large1 = JSONObject()
        var large2 = JSONObject()
        for i in 0..<40 { large1["k\(i)"] = .int(Int64(i)) }
        for i in (0..<40).reversed() { large2["k\(i)"] = .int(Int64(i)) }
        XCTAssertEqual(large1, large2)
        large2["k7"] = 8
        XCTAssertNotEqual(large1, large2)
    }

    func testAccessorsReturnNilOnTypeMismatch() {
        let value: JSONValue = ["name": "bob", "age": 42, "ratio": 2.0, "tags": ["a"], "ok": false, "raw": .binary([1])]
        XCTAssertEqual(value["name"]?.stringValue, "bob")
        XCTAssertEqual(value["age"]?.intValue, 42)
        XCTAssertEqual(value["age"]?.int64Value, 42)
        XCTAssertEqual(value["age"]?.doubleValue, 42.0)
        XCTAssertEqual(value["ratio"]?.intValue, 2)
        XCTAssertEqual(value["tags"]?.arrayValue, ["a"])
        XCTAssertEqual(value["tags"]?[0], "a")
        XCTAssertNil(value["tags"]?[1])
        XCTAssertNil(value["tags"]?[-1])
        XCTAssertEqual(value["ok"]?.boolValue, false)
        XCTAssertEqual(value["raw"]?.binaryValue, [1])
        XCTAssertNil(value["name"]?.intValue)
        XCTAssertNil(value["missing"])
        XCTAssertNil(value[0])
        XCTAssertNil(JSONValue.string("x")["key"])
        XCTAssertEqual(value.objectValue?.count, 6)
        XCTAssertTrue(JSONValue.null.isNull)
        XCTAssertNil(JSONValue.double(1.5).intValue)
    }

    func testObjectKeepsInsertionOrderAndUniqueKeys() {
        var object = JSONObject([("b", 1), ("a", 2), ("b", 3)])
        XCTAssertEqual(object.keys, ["b", "a"])
        XCTAssertEqual(object["b"], 3)
        object["c"] = true
        XCTAssertEqual(object.index(forKey: "c"), 2)
        XCTAssertEqual(object.removeValue(forKey: "b"), 3)
        XCTAssertNil(object.removeValue(forKey: "zz"))
        XCTAssertEqual(object.keys, ["a", "c"])
        XCTAssertEqual(object.values, [2, true])
        XCTAssertEqual(Array(object.map(\.key)), ["a", "c"])
        XCTAssertFalse(object.isEmpty)
    }

    func testKeySubscriptSetterUpdatesObjects() {
        var value: JSONValue = ["a": 1]
        value["b"] = "x"
        value["a"] = nil
        XCTAssertEqual(JSONSerializer.string(value), #"{"b":"x"}"#)
        var notObject: JSONValue = [1]
        notObject["a"] = 1
        XCTAssertEqual(notObject, [1])
    }

    func testDetectsNestedBinary() {
        XCTAssertFalse((["a": [1, "b"]] as JSONValue).containsBinary)
        XCTAssertTrue((["a": [1, .binary([])]] as JSONValue).containsBinary)
    }

    private struct User: Codable, Equatable {
        var name: String
        var age: Int
        var tags: [String]
        var avatar: Data?
    }

    func testEncodesCodableValues() throws {
        let value = try JSONValue(encoding: User(name: "ann", age: 30, tags: ["x"], avatar: nil))
        XCTAssertEqual(value["name"], "ann")
        XCTAssertEqual(value["age"], 30)
        XCTAssertEqual(value["tags"], ["x"])
    }

    func testDecodesCodableValuesIncludingBinaryAsData() throws {
        let value: JSONValue = ["name": "ann", "age": 30, "tags": ["x", "y"], "avatar": .binary([1, 2, 3])]
        let user = try value.decode(User.self)
        XCTAssertEqual(user, User(name: "ann", age: 30, tags: ["x", "y"], avatar: Data([1, 2, 3])))
        XCTAssertThrowsError(try (["name": 1] as JSONValue).decode(User.self))
    }

    func testJSONValueIsItselfCodable() throws {
        let value: JSONValue = ["a": [1, 2.5, "s", true, nil, ["b": "c"]]]
        let data = try JSONEncoder().encode(value)
        let back = try JSONDecoder().decode(JSONValue.self, from: data)
        XCTAssertEqual(back, value)
        XCTAssertEqual(try JSONDecoder().decode(JSONValue.self, from: Data("true".utf8)), .bool(true))
        XCTAssertEqual(try JSONDecoder().decode(JSONValue.self, from: Data("7".utf8)), .int(7))
    }

    func testDescriptionIsCompactJSON() {
        XCTAssertEqual((["a": [1, "b"]] as JSONValue).description, #"{"a":[1,"b"]}"#)
    }
}
