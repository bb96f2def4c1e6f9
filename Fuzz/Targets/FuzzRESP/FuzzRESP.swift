import FuzzSupport
import Redis
import Transport

/// Small limits, so that the fuzzer reaches every limit check.
let limits: RESPDecoder.Limits = {
    var limits = RESPDecoder.Limits()
    limits.maxBulkLength = 1024
    limits.maxAggregateCount = 16
    limits.maxDepth = 8
    limits.maxLineLength = 256
    return limits
}()

/// Checks that `value`, found at nesting `depth` (the top level is 1), is within the limits: `maxDepth` bounds how
/// deeply aggregates nest (the scalars inside the deepest one are one level further).
func checkLimits(_ value: RESPValue, depth: Int) {
    switch value {
    case .array, .set, .push, .map: require(depth <= limits.maxDepth, "an aggregate nested \(depth) deep")
    default: break
    }
    switch value {
    case .bulkString(let bytes), .verbatim(_, let bytes):
        require(bytes.count <= limits.maxBulkLength, "a bulk string of \(bytes.count) bytes")
    case .array(let elements), .set(let elements), .push(let elements):
        require(elements.count <= limits.maxAggregateCount, "an aggregate of \(elements.count) elements")
        for element in elements { checkLimits(element, depth: depth + 1) }
    case .map(let pairs):
        require(pairs.count <= limits.maxAggregateCount, "a map of \(pairs.count) pairs")
        for (key, element) in pairs {
            checkLimits(key, depth: depth + 1)
            checkLimits(element, depth: depth + 1)
        }
    default:
        break
    }
}

/// Decodes the replies of a stream arriving in `pieces`; returns them and whether the decoder failed.
func decode(_ pieces: [ArraySlice<UInt8>]) -> (values: [RESPValue], failed: Bool) {
    var decoder = RESPDecoder(limits: limits)
    var buffer = ByteBuffer()
    var values: [RESPValue] = []
    do {
        for piece in pieces {
            buffer.append(contentsOf: piece)
            while let value = try decoder.decode(&buffer) {
                checkLimits(value, depth: 1)
                values.append(value)
            }
        }
    } catch {
        return (values, true)
    }
    return (values, false)
}

/// The RESP2/RESP3 decoder of the Redis client: replies stay within the limits, and a stream gives the same
/// replies (or fails) whether it arrives at once or in pieces of any size.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRESP(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let (control, input) = splitControl(fuzzBytes(data, size))
    let chunkSize = Int(control % 64) + 1
    let whole = decode([input[...]])
    let pieces = decode(chunks(input, size: chunkSize))
    require(whole.values == pieces.values && whole.failed == pieces.failed, "whole: \(whole), in pieces of \(chunkSize): \(pieces)")
    return 0
}

@main
enum FuzzRESPMain {
    static func main() { runFuzzer(fuzzRESP) }
}
