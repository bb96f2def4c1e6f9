/// Writes MessagePack exactly as notepack.io 3 does for the values JavaScript has.
///
/// - integers in the smallest form: positive fixint, uint 8/16/32/64, negative fixint, int 8/16/32/64;
/// - a `float` with an integral value is a JavaScript integer and is written as one; other floats
///   (fractions, infinities, NaN) as float 64;
/// - strings as fixstr / str 8 / str 16 / str 32 (never bin), bytes as bin 8 / 16 / 32;
/// - arrays as fixarray / array 16 / 32, maps as fixmap / map 16 / 32 with entries in order.
public enum MessagePackEncoder {
    /// The encoding of `value`.
    public static func encode(_ value: MessagePackValue) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(64)
        self.encode(value, into: &output)
        return output
    }

    /// Appends the encoding of `value` to `output`.
    public static func encode(_ value: MessagePackValue, into output: inout [UInt8]) {
        switch value {
        case .nil:
            output.append(0xC0)
        case .bool(let flag):
            output.append(flag ? 0xC3 : 0xC2)
        case .int(let number):
            self.appendInteger(number, to: &output)
        case .uint(let number):
            self.appendUnsigned(number, to: &output)
        case .float(let number):
            self.appendNumber(number, to: &output)
        case .string(let text):
            self.appendString(text, to: &output)
        case .binary(let bytes):
            self.appendBinaryHeader(count: bytes.count, to: &output)
            output.append(contentsOf: bytes)
        case .array(let elements):
            self.appendArrayHeader(count: elements.count, to: &output)
            for element in elements { self.encode(element, into: &output) }
        case .map(let entries):
            self.appendMapHeader(count: entries.count, to: &output)
            for entry in entries {
                self.encode(entry.key, into: &output)
                self.encode(entry.value, into: &output)
            }
        case .ext(let type, let data):
            self.appendExtension(type: type, data: data, to: &output)
        }
    }

    // MARK: Scalars

    /// Appends a JavaScript number: integral values as integers, others as float 64.
    public static func appendNumber(_ number: Double, to output: inout [UInt8]) {
        if number.isFinite, number.rounded(.towardZero) == number {
            if let exact = Int64(exactly: number) {
                self.appendInteger(exact, to: &output)
                return
            }
            if let exact = UInt64(exactly: number) {
                self.appendUnsigned(exact, to: &output)
                return
            }
        }
        output.append(0xCB)
        self.appendBigEndian(number.bitPattern, byteCount: 8, to: &output)
    }

    /// Appends a signed integer in its smallest form.
    public static func appendInteger(_ number: Int64, to output: inout [UInt8]) {
        if number >= 0 {
            self.appendUnsigned(UInt64(number), to: &output)
        } else if number >= -0x20 {
            output.append(UInt8(truncatingIfNeeded: number))
        } else if number >= -0x80 {
            output.append(0xD0)
            output.append(UInt8(truncatingIfNeeded: number))
        } else if number >= -0x8000 {
            output.append(0xD1)
            self.appendBigEndian(UInt64(UInt16(truncatingIfNeeded: number)), byteCount: 2, to: &output)
        } else if number >= -0x8000_0000 {
            output.append(0xD2)
            self.appendBigEndian(UInt64(UInt32(truncatingIfNeeded: number)), byteCount: 4, to: &output)
        } else {
            output.append(0xD3)
            self.appendBigEndian(UInt64(bitPattern: number), byteCount: 8, to: &output)
        }
    }

    /// Appends an unsigned integer in its smallest form.
    public static func appendUnsigned(_ number: UInt64, to output: inout [UInt8]) {
        if number < 0x80 {
            output.append(UInt8(number))
        } else if number < 0x100 {
            output.append(0xCC)
            output.append(UInt8(number))
        } else if number < 0x1_0000 {
            output.append(0xCD)
            self.appendBigEndian(number, byteCount: 2, to: &output)
        } else if number < 0x1_0000_0000 {
            output.append(0xCE)
            self.appendBigEndian(number, byteCount: 4, to: &output)
        } else {
            output.append(0xCF)
            self.appendBigEndian(number, byteCount: 8, to: &output)
        }
    }

    /// Appends a string (UTF-8) with the smallest str header.
    public static func appendString(_ text: String, to output: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in
            let count = bytes.count
            if count < 0x20 {
                output.append(0xA0 | UInt8(count))
            } else if count < 0x100 {
                output.append(0xD9)
                output.append(UInt8(count))
            } else if count < 0x1_0000 {
                output.append(0xDA)
                self.appendBigEndian(UInt64(count), byteCount: 2, to: &output)
            } else {
                output.append(0xDB)
                self.appendBigEndian(UInt64(count), byteCount: 4, to: &output)
            }
            output.append(contentsOf: bytes)
        }
    }

    // MARK: Headers

    /// Appends the bin header for `count` bytes.
    public static func appendBinaryHeader(count: Int, to output: inout [UInt8]) {
        if count < 0x100 {
            output.append(0xC4)
            output.append(UInt8(count))
        } else if count < 0x1_0000 {
            output.append(0xC5)
            self.appendBigEndian(UInt64(count), byteCount: 2, to: &output)
        } else {
            output.append(0xC6)
            self.appendBigEndian(UInt64(count), byteCount: 4, to: &output)
        }
    }

    /// Appends the array header for `count` elements.
    public static func appendArrayHeader(count: Int, to output: inout [UInt8]) {
        if count < 0x10 {
            output.append(0x90 | UInt8(count))
        } else if count < 0x1_0000 {
            output.append(0xDC)
            self.appendBigEndian(UInt64(count), byteCount: 2, to: &output)
        } else {
            output.append(0xDD)
            self.appendBigEndian(UInt64(count), byteCount: 4, to: &output)
        }
    }

    /// Appends the map header for `count` entries.
    public static func appendMapHeader(count: Int, to output: inout [UInt8]) {
        if count < 0x10 {
            output.append(0x80 | UInt8(count))
        } else if count < 0x1_0000 {
            output.append(0xDE)
            self.appendBigEndian(UInt64(count), byteCount: 2, to: &output)
        } else {
            output.append(0xDF)
            self.appendBigEndian(UInt64(count), byteCount: 4, to: &output)
        }
    }

    /// Appends an extension value (fixext when the size allows, as notepack.io does).
    static func appendExtension(type: Int8, data: [UInt8], to output: inout [UInt8]) {
        switch data.count {
        case 1: output.append(0xD4)
        case 2: output.append(0xD5)
        case 4: output.append(0xD6)
        case 8: output.append(0xD7)
        case 16: output.append(0xD8)
        case let count where count < 0x100:
            output.append(0xC7)
            output.append(UInt8(count))
        case let count where count < 0x1_0000:
            output.append(0xC8)
            self.appendBigEndian(UInt64(count), byteCount: 2, to: &output)
        case let count:
            output.append(0xC9)
            self.appendBigEndian(UInt64(count), byteCount: 4, to: &output)
        }
        output.append(UInt8(bitPattern: type))
        output.append(contentsOf: data)
    }

    private static func appendBigEndian(_ value: UInt64, byteCount: Int, to output: inout [UInt8]) {
        var shift = (byteCount - 1) * 8
        while shift >= 0 {
            output.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
            shift -= 8
        }
    }
}
