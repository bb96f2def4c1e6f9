/// Formats and parses HTTP dates (RFC 9110 §5.6.7) without Foundation's locale-dependent formatters.
public enum HTTPDate {
    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// IMF-fixdate for a Unix time, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
    public static func format(epochSeconds: Int) -> String {
        let days = floorDivide(epochSeconds, 86_400)
        let secondsOfDay = epochSeconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        // 1970-01-01 was a Thursday (index 4 with Sunday = 0).
        let weekday = ((days % 7) + 7 + 4) % 7
        let hour = secondsOfDay / 3600, minute = secondsOfDay / 60 % 60, second = secondsOfDay % 60
        return "\(weekdays[weekday]), \(twoDigits(day)) \(months[month - 1]) \(year) "
            + "\(twoDigits(hour)):\(twoDigits(minute)):\(twoDigits(second)) GMT"
    }

    /// Parses IMF-fixdate, the obsolete RFC 850 form and asctime, as RFC 9110 asks recipients to.
    /// Returns Unix seconds, or nil for anything else (callers then ignore the header).
    public static func parse(_ text: some StringProtocol) -> Int? {
        var words: [Substring] = []
        for word in Substring(text).split(whereSeparator: { $0 == " " || $0 == "," || $0 == "-" || $0 == ":" }) {
            words.append(word)
        }
        guard words.count >= 7 else { return nil }
        let numbers: [Int]
        let monthWord: Substring
        if words.count == 7 {
            // asctime: `Sun Nov  6 08:49:37 1994`
            monthWord = words[1]
            numbers = words[2...].compactMap { Int($0) }
            guard numbers.count == 5 else { return nil }
            return build(year: numbers[4], monthWord: monthWord, day: numbers[0], hour: numbers[1],
                         minute: numbers[2], second: numbers[3])
        }
        guard words.count == 8, words[7] == "GMT" else { return nil }
        monthWord = words[2]
        numbers = [words[1], words[3], words[4], words[5], words[6]].compactMap { Int($0) }
        guard numbers.count == 5 else { return nil }
        var year = numbers[1]
        if words[3].count == 2 { year += year < 70 ? 2000 : 1900 }  // RFC 850 two-digit years
        return build(year: year, monthWord: monthWord, day: numbers[0], hour: numbers[2],
                     minute: numbers[3], second: numbers[4])
    }

    private static func build(year: Int, monthWord: Substring, day: Int, hour: Int, minute: Int, second: Int) -> Int? {
        guard let monthIndex = months.firstIndex(where: { $0 == monthWord }) else { return nil }
        guard (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second),
              (1...9999).contains(year) else { return nil }
        let days = daysFromCivil(year: year, month: monthIndex + 1, day: day)
        return days * 86_400 + hour * 3600 + minute * 60 + second
    }

    private static func twoDigits(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    private static func floorDivide(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : (a - b + 1) / b }

    /// Proleptic Gregorian date for days since 1970-01-01 (the well-known era-based conversion), also used for
    /// other timestamp formats (SpacesApp's ISO 8601).
    public static func civil(fromDays z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Days since 1970-01-01 for a proleptic Gregorian date (inverse of `civil(fromDays:)`).
    static func daysFromCivil(year y0: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? y0 - 1 : y0
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * mp + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
