import Foundation
import HTTPKit
import Synchronization

/// UTC timestamps as ISO8601DateFormatter() writes them by default (`2026-12-07T15:33:35Z`), for the log and the
/// simulated result. By arithmetic: a Foundation formatter created per call (ICU behind it) was a large part of an
/// echo request's CPU.
enum ISOTimestamp {
    /// The last second formatted: a busy worker writes two timestamps per request, mostly of the same second.
    private static let last = Mutex<(second: Int, text: String)>((second: .min, text: ""))

    static func string(_ date: Date = Date()) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        if let text = self.last.withLock({ $0.second == seconds ? $0.text : nil }) { return text }
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = HTTPDate.civil(fromDays: days)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let time = "\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))"
        let text = "\(year)-\(two(month))-\(two(day))T\(time)Z"
        self.last.withLock { $0 = (second: seconds, text: text) }
        return text
    }
}
