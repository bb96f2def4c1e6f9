import Foundation

/// ISO 8601 timestamps (UTC, milliseconds) for JSON answers.
enum ISOTime {
    static func format(_ seconds: Double) -> String {
        var time = time_t(seconds.rounded(.down))
        var parts = tm()
        gmtime_r(&time, &parts)
        let millis = Int((seconds - seconds.rounded(.down)) * 1000)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), millis)
    }

    /// Midnight UTC of the day holding `seconds`.
    static func startOfDay(_ seconds: Double) -> Double {
        (seconds / 86_400).rounded(.down) * 86_400
    }
}
