import FuzzSupport
import MessagePack

/// Small limits, so that the fuzzer reaches every limit check.
let limits = MessagePackLimits(maxDepth: 8, maxCount: 64)

/// Checks that `value`, at nesting `depth` (the top level is 1), is within the limits.
func checkLimits(_ value: MessagePackValue, depth: Int) {
    switch value {
    case .array(let elements):
        require(depth <= limits.maxDepth, "an array nested \(depth) deep")
        require(elements.count <= limits.maxCount, "an array of \(elements.count) elements")
        for element in elements { checkLimits(element, depth: depth + 1) }
    case .map(let entries):
        require(depth <= limits.maxDepth, "a map nested \(depth) deep")
        require(entries.count <= limits.maxCount, "a map of \(entries.count) entries")
        for entry in entries {
            checkLimits(entry.key, depth: depth + 1)
            checkLimits(entry.value, depth: depth + 1)
        }
    default:
        break
    }
}

/// The same value for a JavaScript peer: numbers compare by value across int, uint and float (the encoder writes
/// an integral float as an integer, as notepack.io does), NaN matches NaN; the rest structurally.
func equivalent(_ a: MessagePackValue, _ b: MessagePackValue) -> Bool {
    switch (a, b) {
    case let (.float(x), .float(y)): return x == y || (x.isNaN && y.isNaN)
    case let (.float(x), .int(i)), let (.int(i), .float(x)): return Int64(exactly: x) == i
    case let (.float(x), .uint(u)), let (.uint(u), .float(x)): return UInt64(exactly: x) == u
    case let (.array(x), .array(y)): return x.count == y.count && zip(x, y).allSatisfy(equivalent)
    case let (.map(x), .map(y)):
        return x.count == y.count && zip(x, y).allSatisfy { equivalent($0.key, $1.key) && equivalent($0.value, $1.value) }
    default: return a == b
    }
}

/// The MessagePack decoder (Redis adapter broadcasts): decoded values stay within the limits and encode to bytes
/// that decode to an equivalent value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMessagePack(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzBytes(data, size)
    guard let value = try? MessagePackDecoder.decode(bytes, limits: limits) else { return 0 }
    checkLimits(value, depth: 1)
    let encoded = MessagePackEncoder.encode(value)
    guard let again = try? MessagePackDecoder.decode(encoded, limits: limits) else {
        fatalError("the encoding of \(value) does not decode")
    }
    require(equivalent(again, value), "\(value) came back as \(again)")
    return 0
}

@main
enum FuzzMessagePackMain {
    static func main() { runFuzzer(fuzzMessagePack) }
}
