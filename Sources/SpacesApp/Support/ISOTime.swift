import Foundation
import HTTPKit

/// ISO 8601 timestamps (UTC, milliseconds) for JSON answers.
enum ISOTime {
    static func format(_ seconds: Double) -> String {
        var out = [UInt8]()
        out.reserveCapacity(24)
        self.append(seconds, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the timestamp's bytes to `out` (a status answer writes four, straight into its bytes).
    static func append(_ seconds: Double, to out: inout [UInt8]) {
        let whole = Int64(seconds.rounded(.down))
        let millis = Int((seconds - seconds.rounded(.down)) * 1000)
        // The civil date by arithmetic (days since 1970 to year, month, day): glibc's gmtime_r takes the time-zone
        // lock, and a status answer writes up to four timestamps.
        var days = whole / 86_400
        var secondOfDay = whole % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = HTTPDate.civil(fromDays: Int(days))
        // Written digit by digit into 24 bytes on the stack, appended at once: String(format:) went through
        // Foundation's format parser, and a byte-by-byte append checks the array's capacity 24 times.
        let zero = UInt8(ascii: "0")
        let hour = Int(secondOfDay / 3600), minute = Int(secondOfDay / 60 % 60), second = Int(secondOfDay % 60)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { text in
            /// The last two decimal digits of `value` at `index`.
            func two(_ value: Int, at index: Int) {
                text[index] = zero + UInt8(value / 10 % 10)
                text[index + 1] = zero + UInt8(value % 10)
            }
            let fourDigitYear = max(0, Int(year)), threeDigitMillis = max(0, millis)
            text[0] = zero + UInt8(fourDigitYear / 1000 % 10)
            text[1] = zero + UInt8(fourDigitYear / 100 % 10)
            two(fourDigitYear, at: 2)
            text[4] = UInt8(ascii: "-")
            two(Int(month), at: 5)
            text[7] = UInt8(ascii: "-")
            two(Int(day), at: 8)
            text[10] = UInt8(ascii: "T")
            two(hour, at: 11)
            text[13] = UInt8(ascii: ":")
            two(minute, at: 14)
            text[16] = UInt8(ascii: ":")
            two(second, at: 17)
            text[19] = UInt8(ascii: ".")
            text[20] = zero + UInt8(threeDigitMillis / 100 % 10)
            two(threeDigitMillis, at: 21)
            text[23] = UInt8(ascii: "Z")
            out.append(contentsOf: text)
        }
    }

    /// Midnight UTC of the day holding `seconds`.
    static func startOfDay(_ seconds: Double) -> Double {
        (seconds / 86_400).rounded(.down) * 86_400
    }
}
