import Foundation
import HTTPKit

/// UTC timestamps as ISO8601DateFormatter() writes them by default (`2026-12-07T15:33:35Z`), for the log and the
/// simulated result. By arithmetic: a Foundation formatter created per call (ICU behind it) was a large part of an
/// echo request's CPU.
enum ISOTimestamp {
    static func string(_ date: Date = Date()) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = HTTPDate.civil(fromDays: days)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let time = "\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))"
        return "\(year)-\(two(month))-\(two(day))T\(time)Z"
    }
}
