import FuzzJSONEquivalence
import FuzzSupport
import SocketIO

/// The JSON parser: whatever it accepts serializes to text that parses back to an equivalent value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzBytes(data, size)
    guard let value = try? JSONParser.parse(bytes) else { return 0 }
    let encoded = JSONSerializer.serialize(value)
    guard let again = try? JSONParser.parse(encoded) else {
        fatalError("serialized JSON does not parse again: \(JSONSerializer.string(value))")
    }
    require(equivalent(again, asSerialized(value)), "JSON round trip changed \(value) into \(again)")
    return 0
}

@main
enum FuzzJSONMain {
    static func main() { runFuzzer(fuzzJSON) }
}
