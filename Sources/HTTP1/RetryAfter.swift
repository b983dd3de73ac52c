/// `Retry-After` (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date, turned into seconds from `now`.
@_spi(Internals) public enum RetryAfter {
    /// Seconds to wait, or nil when the value is neither form. A date in the past means 0.
    /// `now` is seconds since the Unix epoch (UTC).
    public static func seconds(_ value: String, now: Int64) -> Int64? {
        let text = value.trimmingOWS()
        if let seconds = HTTPResponseParser.decimal(text) { return Int64(seconds) }
        guard let date = HTTPDate.parse(text) else { return nil }
        return max(0, date - now)
    }
}

/// HTTP-date (RFC 9110 §5.6.7): IMF-fixdate, and the obsolete RFC 850 and asctime forms that recipients must accept.
@_spi(Internals) public enum HTTPDate {
    static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// Seconds since the Unix epoch, or nil.
    public static func parse(_ text: String) -> Int64? {
        let words = text.split { $0 == " " || $0 == "," || $0 == "-" }.map(String.init)
        // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT  →  [Sun, 06, Nov, 1994, 08:49:37, GMT]
        // RFC 850:     Sunday, 06-Nov-94 08:49:37 GMT →  [Sunday, 06, Nov, 94, 08:49:37, GMT]
        // asctime:     Sun Nov  6 08:49:37 1994       →  [Sun, Nov, 6, 08:49:37, 1994]
        var day: Int?
        var month: Int?
        var year: Int?
        var time: [Int]?
        if words.count == 6, words[5] == "GMT" {
            day = Int(words[1])
            month = months.firstIndex(of: words[2].lowercasedASCII())
            year = Int(words[3])
            if let y = year, words[3].count == 2 { year = y < 70 ? 2000 + y : 1900 + y }
            time = clock(words[4])
        } else if words.count == 5 {
            month = months.firstIndex(of: words[1].lowercasedASCII())
            day = Int(words[2])
            time = clock(words[3])
            year = Int(words[4])
        }
        guard let day, let month, let year, let time, (1...31).contains(day), year >= 1970 else { return nil }
        return daysFromCivil(year: year, month: month + 1, day: day) * 86_400
            + Int64(time[0] * 3600 + time[1] * 60 + time[2])
    }

    private static func clock(_ text: String) -> [Int]? {
        let parts = text.split(separator: ":").compactMap { Int($0) }
        guard parts.count == 3, parts[0] < 24, parts[1] < 60, parts[2] <= 60 else { return nil }
        return parts
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
