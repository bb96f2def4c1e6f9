import Glibc
import Transport

extension HTTPHeaders {
    /// Which framing fields a response's own headers already carry (the encoder adds the missing ones).
    struct FramingFields {
        var length = false
        var date = false
        var connection = false
    }

    /// Appends every field as `Name: value\r\n`, in order, with CR, LF and NUL in names and values replaced
    /// by spaces (a handler cannot split the response). The room is taken once and filled in place: a
    /// response head is written for every request, and appending piece by piece cost four calls a field.
    func appendWireFields(into out: inout [UInt8]) -> FramingFields {
        var framing = FramingFields()
        let count = self.entries.count
        guard count > 0 else { return framing }
        let start = out.count
        // The room for the names and values, then four separator bytes per field (`: ` and CRLF); all of it
        // is written below.
        // Names and values only: a parsed field's colon and spaces (`Entry.gap`) are not copied.
        var room = 4 * count
        for entry in self.entries { room += Int(entry.nameLength) + Int(entry.valueLength) }
        while room > 0 {
            let step = Swift.min(room, Self.zeros.count)
            out.append(contentsOf: Self.zeros[0..<step])
            room -= step
        }
        self.bytes.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                var at = start
                for entry in self.entries {
                    switch entry.name {
                    case .contentLength, .transferEncoding: framing.length = true
                    case .date: framing.date = true
                    case .connection: framing.connection = true
                    default: break
                    }
                    let valueStart = entry.valueStart
                    at = Self.copySanitized(source, Int(entry.start)..<entry.nameEnd, to: target, at: at)
                    target[at] = UInt8(ascii: ":")
                    target[at + 1] = UInt8(ascii: " ")
                    at = Self.copySanitized(source, valueStart..<valueStart + Int(entry.valueLength), to: target, at: at + 2)
                    target[at] = 13
                    target[at + 1] = 10
                    at += 2
                }
            }
        }
        return framing
    }

    private static let zeros = [UInt8](repeating: 0, count: 256)

    /// Copies `source[range]` to `target` at `start` (one memcpy), then replaces CR, LF and NUL if the
    /// copy holds any (checked eight bytes at a time); returns where the copy ends.
    @inline(__always)
    private static func copySanitized(_ source: UnsafeBufferPointer<UInt8>, _ range: Range<Int>,
                                      to target: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int {
        guard let from = source.baseAddress, let to = target.baseAddress, !range.isEmpty else { return start }
        let length = range.count
        memcpy(to + start, from + range.lowerBound, length)
        var i = 0
        var clean = true
        while length - i >= 8 {
            let word = UnsafeRawPointer(to + start + i).loadUnaligned(as: UInt64.self)
            if ByteWord.equal(word, 13) | ByteWord.equal(word, 10) | ByteWord.equal(word, 0) != 0 {
                clean = false
                break
            }
            i += 8
        }
        if clean {
            while i < length {
                let byte = to[start + i]
                if byte == 13 || byte == 10 || byte == 0 {
                    clean = false
                    break
                }
                i += 1
            }
        }
        if !clean {
            for index in start..<(start + length) where to[index] == 13 || to[index] == 10 || to[index] == 0 {
                to[index] = UInt8(ascii: " ")
            }
        }
        return start + length
    }
}
