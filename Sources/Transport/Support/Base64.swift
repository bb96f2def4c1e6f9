/// Standard-alphabet base64 (RFC 4648 §4) for binary packets in long-polling payloads.
///
/// Written here instead of using Foundation's `Data(base64Encoded:)` because the codec works on byte
/// buffers without `Data` or `String` round trips, and because Engine.IO needs a specific leniency mix:
/// the decoder rejects any character outside the alphabet (Node's `Buffer.from(_, "base64")` silently
/// skips them, which would hide corrupt input) but accepts missing `=` padding (which Node and browsers
/// accept, so some clients may omit it). Non-zero bits in the last character are ignored, as Node and
/// Python do.
public enum Base64 {
    /// Why base64 text could not be decoded.
    public enum DecodingError: Error, Sendable, Hashable {
        /// A byte outside `A–Z a–z 0–9 + /` (or an `=` before the final padding) at this offset.
        case invalidCharacter(offset: Int)
        /// The unpadded length leaves a single dangling character, which cannot encode a whole byte.
        case invalidLength
        /// More than two `=`, or padding on text whose length is not a multiple of four.
        case invalidPadding
    }

    @usableFromInline static let encodeTable: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8
    )

    /// Maps an input byte to its 6-bit value, or 0xFF for bytes outside the alphabet. A 256-entry table
    /// makes decoding one load per character with no branching on character classes.
    @usableFromInline static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, character) in encodeTable.enumerated() {
            table[Int(character)] = UInt8(value)
        }
        return table
    }()

    @usableFromInline static let padding = UInt8(ascii: "=")

    // MARK: - Encoding

    /// The number of characters `byteCount` bytes encode to, padding included.
    @inlinable
    public static func encodedLength(byteCount: Int) -> Int { (byteCount + 2) / 3 * 4 }

    /// Encodes `source` into the start of `destination` and returns the number of characters written.
    ///
    /// `destination` must hold at least `encodedLength(byteCount: source.count)` bytes; this is the
    /// allocation-free entry point that payload encoding writes through.
    public static func encode(
        _ source: UnsafeBufferPointer<UInt8>,
        into destination: UnsafeMutableBufferPointer<UInt8>
    ) -> Int {
        let length = encodedLength(byteCount: source.count)
        precondition(destination.count >= length, "base64 destination too small")
        guard length > 0, let input = source.baseAddress, let output = destination.baseAddress else { return 0 }
        return encodeTable.withUnsafeBufferPointer { tableBuffer -> Int in
            // The table is a non-empty constant, so its base address always exists.
            guard let table = tableBuffer.baseAddress else { return 0 }
            var inIndex = 0
            var outIndex = 0
            let fullEnd = source.count - source.count % 3
            while inIndex < fullEnd {
                let word = UInt32(input[inIndex]) << 16 | UInt32(input[inIndex + 1]) << 8 | UInt32(input[inIndex + 2])
                output[outIndex] = table[Int(word >> 18)]
                output[outIndex + 1] = table[Int(word >> 12 & 0x3F)]
                output[outIndex + 2] = table[Int(word >> 6 & 0x3F)]
                output[outIndex + 3] = table[Int(word & 0x3F)]
                inIndex += 3
                outIndex += 4
            }
            switch source.count - fullEnd {
            case 1:
                let word = UInt32(input[inIndex]) << 16
                output[outIndex] = table[Int(word >> 18)]
                output[outIndex + 1] = table[Int(word >> 12 & 0x3F)]
                output[outIndex + 2] = padding
                output[outIndex + 3] = padding
                outIndex += 4
            case 2:
                let word = UInt32(input[inIndex]) << 16 | UInt32(input[inIndex + 1]) << 8
                output[outIndex] = table[Int(word >> 18)]
                output[outIndex + 1] = table[Int(word >> 12 & 0x3F)]
                output[outIndex + 2] = table[Int(word >> 6 & 0x3F)]
                output[outIndex + 3] = padding
                outIndex += 4
            default:
                break
            }
            return outIndex
        }
    }

    /// Encodes `bytes` to base64 characters (ASCII bytes) in a single allocation.
    public static func encode(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBufferPointer { source in
            [UInt8](unsafeUninitializedCapacity: encodedLength(byteCount: source.count)) { buffer, count in
                count = encode(source, into: buffer)
            }
        }
    }

    /// Encodes `bytes` to a base64 `String`.
    public static func encodeToString(_ bytes: [UInt8]) -> String {
        // Straight into the string's storage (a WebSocket upgrade's accept value comes through here).
        bytes.withUnsafeBufferPointer { input in
            String(unsafeUninitializedCapacity: encodedLength(byteCount: input.count)) { encode(input, into: $0) }
        }
    }

    // MARK: - Decoding

    /// The exact number of bytes `text` decodes to, after checking its length and padding.
    ///
    /// Characters are not checked here; `decode` does that while it converts.
    public static func decodedLength(_ text: UnsafeBufferPointer<UInt8>) throws(DecodingError) -> Int {
        let unpadded = try unpaddedLength(text)
        return try decodedLength(unpaddedLength: unpadded)
    }

    @usableFromInline
    static func unpaddedLength(_ text: UnsafeBufferPointer<UInt8>) throws(DecodingError) -> Int {
        var end = text.count
        while end > 0 && text[end - 1] == padding { end -= 1 }
        let padCount = text.count - end
        if padCount > 0 {
            // Padding only ever completes the last quantum, so it must make the length a multiple of 4.
            guard padCount <= 2, text.count % 4 == 0 else { throw .invalidPadding }
        }
        return end
    }

    @usableFromInline
    static func decodedLength(unpaddedLength: Int) throws(DecodingError) -> Int {
        switch unpaddedLength % 4 {
        case 0: return unpaddedLength / 4 * 3
        case 2: return unpaddedLength / 4 * 3 + 1
        case 3: return unpaddedLength / 4 * 3 + 2
        default: throw .invalidLength
        }
    }

    /// Decodes `text` into the start of `destination` and returns the number of bytes written.
    ///
    /// `destination` must hold at least `decodedLength(text)` bytes. On error, `destination` may have been
    /// partly written.
    public static func decode(
        _ text: UnsafeBufferPointer<UInt8>,
        into destination: UnsafeMutableBufferPointer<UInt8>
    ) throws(DecodingError) -> Int {
        let end = try unpaddedLength(text)
        let length = try decodedLength(unpaddedLength: end)
        precondition(destination.count >= length, "base64 destination too small")
        guard length > 0, let input = text.baseAddress, let output = destination.baseAddress else { return 0 }
        let failure: Int? = decodeTable.withUnsafeBufferPointer { tableBuffer -> Int? in
            guard let table = tableBuffer.baseAddress else { return 0 }
            var inIndex = 0
            var outIndex = 0
            let fullEnd = end - end % 4
            while inIndex < fullEnd {
                let a = table[Int(input[inIndex])]
                let b = table[Int(input[inIndex + 1])]
                let c = table[Int(input[inIndex + 2])]
                let d = table[Int(input[inIndex + 3])]
                // Invalid characters map to 0xFF, so one OR finds any of them; locate it only on failure.
                if (a | b | c | d) & 0x80 != 0 {
                    return firstInvalid(input, from: inIndex, table: table)
                }
                let word = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                output[outIndex] = UInt8(truncatingIfNeeded: word >> 16)
                output[outIndex + 1] = UInt8(truncatingIfNeeded: word >> 8)
                output[outIndex + 2] = UInt8(truncatingIfNeeded: word)
                inIndex += 4
                outIndex += 3
            }
            let remaining = end - fullEnd
            if remaining >= 2 {
                let a = table[Int(input[inIndex])]
                let b = table[Int(input[inIndex + 1])]
                let c = remaining == 3 ? table[Int(input[inIndex + 2])] : 0
                if (a | b | c) & 0x80 != 0 {
                    return firstInvalid(input, from: inIndex, table: table)
                }
                let word = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6
                output[outIndex] = UInt8(truncatingIfNeeded: word >> 16)
                if remaining == 3 {
                    output[outIndex + 1] = UInt8(truncatingIfNeeded: word >> 8)
                }
            }
            return nil
        }
        if let offset = failure { throw .invalidCharacter(offset: offset) }
        return length
    }

    private static func firstInvalid(_ input: UnsafePointer<UInt8>, from start: Int, table: UnsafePointer<UInt8>) -> Int {
        var index = start
        while table[Int(input[index])] & 0x80 == 0 { index += 1 }
        return index
    }

    /// Decodes base64 text (as ASCII bytes) to bytes in a single allocation.
    public static func decode(_ text: UnsafeBufferPointer<UInt8>) throws(DecodingError) -> [UInt8] {
        let length = try decodedLength(text)
        var failure: DecodingError?
        let bytes = [UInt8](unsafeUninitializedCapacity: length) { buffer, count in
            do throws(DecodingError) {
                count = try decode(text, into: buffer)
            } catch {
                failure = error
                count = 0
            }
        }
        if let failure { throw failure }
        return bytes
    }

    /// Decodes base64 text held in any byte collection (an `Array`, `ArraySlice`, `String.UTF8View`, …).
    public static func decode(_ text: some Collection<UInt8>) throws(DecodingError) -> [UInt8] {
        // `withContiguousStorageIfAvailable` only rethrows untyped errors, so the result travels in a Result.
        let contiguous: Result<[UInt8], DecodingError>? = text.withContiguousStorageIfAvailable { buffer in
            Result { () throws(DecodingError) -> [UInt8] in try decode(buffer) }
        }
        if let contiguous { return try contiguous.get() }
        let copy = Array(text)
        return try copy.withUnsafeBufferPointer { buffer throws(DecodingError) in try decode(buffer) }
    }

    /// Decodes a base64 `String`.
    public static func decode(_ string: String) throws(DecodingError) -> [UInt8] {
        try decode(string.utf8)
    }
}
