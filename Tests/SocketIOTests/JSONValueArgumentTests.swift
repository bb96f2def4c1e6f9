import Foundation
import SocketIO
import XCTest

/// How Swift values become event arguments (`JSONValue(argument:)`, what `emit` and acks use).
final class JSONValueArgumentTests: XCTestCase {
    private struct Item: Encodable {
        var name: String
        var tags: [String]
        var size: Double?
    }

    func testScalarsCollectionsAndDataConvertDirectly() {
        let name = "ada"
        XCTAssertEqual(JSONValue(argument: name), .string("ada"))
        XCTAssertEqual(JSONValue(argument: 42), .int(42))
        XCTAssertEqual(JSONValue(argument: 2.5), .double(2.5))
        XCTAssertEqual(JSONValue(argument: true), .bool(true))
        XCTAssertEqual(JSONValue(argument: Data([0, 255])), .binary([0, 255]))
        XCTAssertEqual(JSONValue(argument: ["a": [1, 2], "b": []]), .object(["a": [1, 2], "b": []]))
        XCTAssertEqual(JSONValue(argument: [Data([1]), Data([2])]), .array([.binary([1]), .binary([2])]))
        XCTAssertEqual(JSONValue(argument: Optional<Int>.none), .null)
        XCTAssertEqual(JSONValue(argument: UInt.max), .double(Double(UInt.max)))
        XCTAssertEqual(JSONValue(argument: JSONValue.array([.null])), .array([.null]))
    }

    func testEncodableTypesGoThroughJSONEncoderWithSortedKeys() throws {
        let value = try XCTUnwrap(JSONValue(argument: Item(name: "x", tags: ["a"], size: nil)))
        XCTAssertEqual(String(decoding: JSONSerializer.serialize(value), as: UTF8.self), #"{"name":"x","tags":["a"]}"#)
        let dictionary = try XCTUnwrap(JSONValue(argument: ["b": 1, "a": 2, "c": 3]))
        XCTAssertEqual(String(decoding: JSONSerializer.serialize(dictionary), as: UTF8.self), #"{"a":2,"b":1,"c":3}"#)
    }

    func testValuesJSONCannotCarryAreRefused() {
        XCTAssertNil(JSONValue(argument: Double.nan))
        XCTAssertNil(JSONValue(argument: [1.0, .infinity]))
        XCTAssertNil(JSONValue(argument: Item(name: "x", tags: [], size: .nan)))
        XCTAssertNil(JSONValue.convertingArguments("ok", Double.nan))
        XCTAssertEqual(JSONValue.convertingArguments("ok", 1), [.string("ok"), .int(1)])
    }
}
