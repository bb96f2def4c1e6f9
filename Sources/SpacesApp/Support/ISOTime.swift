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
        // Written digit by digit: String(format:) went through Foundation's format parser on every status read.
        func digits(_ value: Int, _ count: Int, then separator: UInt8?) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            var rest = max(0, value)
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
            if let separator { out.append(separator) }
        }
        digits(Int(year), 4, then: UInt8(ascii: "-"))
        digits(Int(month), 2, then: UInt8(ascii: "-"))
        digits(Int(day), 2, then: UInt8(ascii: "T"))
        digits(Int(secondOfDay / 3600), 2, then: UInt8(ascii: ":"))
        digits(Int(secondOfDay / 60 % 60), 2, then: UInt8(ascii: ":"))
        digits(Int(secondOfDay % 60), 2, then: UInt8(ascii: "."))
        digits(millis, 3, then: UInt8(ascii: "Z"))
    }

    /// Midnight UTC of the day holding `seconds`.
    static func startOfDay(_ seconds: Double) -> Double {
        (seconds / 86_400).rounded(.down) * 86_400
    }
}
