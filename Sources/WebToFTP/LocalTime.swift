import Glibc

/// A wall-clock moment in the local time zone, for log lines and file names (no Foundation).
public struct LocalTime: Sendable, Equatable {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int
    public var millisecond: Int
    /// Seconds east of UTC.
    public var utcOffset: Int

    public static func now() -> LocalTime {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = spec.tv_sec
        var parts = tm()
        localtime_r(&seconds, &parts)
        return LocalTime(
            year: Int(parts.tm_year) + 1900, month: Int(parts.tm_mon) + 1, day: Int(parts.tm_mday),
            hour: Int(parts.tm_hour), minute: Int(parts.tm_min), second: Int(parts.tm_sec),
            millisecond: Int(spec.tv_nsec / 1_000_000), utcOffset: Int(parts.tm_gmtoff))
    }

    /// ISO 8601 with milliseconds and offset: `2026-11-26T22:23:00.123+01:00`.
    public var iso8601: String {
        let sign = utcOffset < 0 ? "-" : "+"
        let offset = abs(utcOffset)
        return "\(pad(year, 4))-\(pad(month))-\(pad(day))T\(pad(hour)):\(pad(minute)):\(pad(second))"
            + ".\(pad(millisecond, 3))\(sign)\(pad(offset / 3600)):\(pad(offset % 3600 / 60))"
    }

    /// strftime subset: %Y %m %d %H %M %S %%.
    @_spi(Internals) public func format(_ format: String) -> String {
        var out = ""
        var iterator = format.makeIterator()
        while let character = iterator.next() {
            guard character == "%", let directive = iterator.next() else {
                out.append(character)
                continue
            }
            switch directive {
            case "Y": out += pad(year, 4)
            case "m": out += pad(month)
            case "d": out += pad(day)
            case "H": out += pad(hour)
            case "M": out += pad(minute)
            case "S": out += pad(second)
            case "%": out += "%"
            default: out += "%\(directive)"
            }
        }
        return out
    }

    private func pad(_ value: Int, _ width: Int = 2) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}
