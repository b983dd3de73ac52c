import Glibc

/// A time of day, `HH:MM` or `HH:MM:SS`.
@_spi(Internals) public struct TimeOfDay: Equatable, Comparable, Sendable, CustomStringConvertible {
    public var hour: Int
    public var minute: Int
    public var second: Int

    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 2 || parts.count == 3, parts.allSatisfy({ $0 != nil }),
            (0..<24).contains(parts[0]!), (0..<60).contains(parts[1]!), parts.count == 2 || (0..<60).contains(parts[2]!)
        else { return nil }
        hour = parts[0]!
        minute = parts[1]!
        second = parts.count == 3 ? parts[2]! : 0
    }

    public static func < (a: TimeOfDay, b: TimeOfDay) -> Bool {
        (a.hour, a.minute, a.second) < (b.hour, b.minute, b.second)
    }

    public var description: String {
        func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(pad(hour)):\(pad(minute))" + (second == 0 ? "" : ":\(pad(second))")
    }
}

/// A local calendar date and time of day: the identity of one scheduled run, so that an hour that happens twice
/// (the autumn DST change) runs once.
@_spi(Internals) public struct LocalSlot: Equatable, Sendable {
    public var year: Int
    public var month: Int
    public var day: Int
    public var time: TimeOfDay
}

/// When `web2ftp schedule` runs next, in local wall-clock time (the process's time zone, TZ): every day at each of
/// `times`. A time that does not exist that day (the spring DST gap) runs at the next valid time, as mktime(3)
/// normalises it; a time that exists twice runs at its first occurrence only.
@_spi(Internals) public struct DailySchedule: Sendable {
    public let times: [TimeOfDay]

    public init(times: [TimeOfDay]) {
        self.times = Array(Set(times.map(\.description))).compactMap(TimeOfDay.init).sorted()
    }

    /// The first run strictly after `now` (Unix seconds), other than the slot that last fired.
    public func next(after now: Int64, lastFired: LocalSlot? = nil) -> (unixTime: Int64, slot: LocalSlot) {
        var today = tm()
        var seconds = time_t(now)
        localtime_r(&seconds, &today)
        for offset in 0..<8 {
            // The calendar date `offset` days on, found at noon (never inside a DST change).
            var noon = tm()
            noon.tm_year = today.tm_year
            noon.tm_mon = today.tm_mon
            noon.tm_mday = today.tm_mday + Int32(offset)
            noon.tm_hour = 12
            noon.tm_isdst = -1
            _ = mktime(&noon)
            for time in times {
                let slot = LocalSlot(
                    year: Int(noon.tm_year) + 1900, month: Int(noon.tm_mon) + 1, day: Int(noon.tm_mday), time: time)
                if slot == lastFired { continue }
                let at = Self.firstInstant(of: slot)
                if at > now { return (at, slot) }
            }
        }
        preconditionFailure("no run within a week: the schedule has no times")
    }

    /// The earliest Unix time showing `slot` on the wall clock; for a time skipped by DST, the normalised next one.
    static func firstInstant(of slot: LocalSlot) -> Int64 {
        var candidates: [Int64] = []
        for isDST: Int32 in [1, 0] {
            var parts = brokenDown(slot, isDST: isDST)
            var instant = mktime(&parts)
            guard instant != -1 else { continue }
            // Keep only readings that really show this wall time.
            var check = tm()
            localtime_r(&instant, &check)
            if Int(check.tm_hour) == slot.time.hour && Int(check.tm_min) == slot.time.minute
                && Int(check.tm_mday) == slot.day
            {
                candidates.append(Int64(instant))
            }
        }
        if let first = candidates.min() { return first }
        // The wall time does not exist today (spring forward): let mktime move it to the next valid time.
        var parts = brokenDown(slot, isDST: -1)
        return Int64(mktime(&parts))
    }

    private static func brokenDown(_ slot: LocalSlot, isDST: Int32) -> tm {
        var parts = tm()
        parts.tm_year = Int32(slot.year - 1900)
        parts.tm_mon = Int32(slot.month - 1)
        parts.tm_mday = Int32(slot.day)
        parts.tm_hour = Int32(slot.time.hour)
        parts.tm_min = Int32(slot.time.minute)
        parts.tm_sec = Int32(slot.time.second)
        parts.tm_isdst = isDST
        return parts
    }

    /// `YYYY-MM-DD HH:MM:SS±HH:MM` of a Unix time, in local time.
    public static func describe(_ unixTime: Int64) -> String {
        var seconds = time_t(unixTime)
        var parts = tm()
        localtime_r(&seconds, &parts)
        let local = LocalTime(
            year: Int(parts.tm_year) + 1900, month: Int(parts.tm_mon) + 1, day: Int(parts.tm_mday),
            hour: Int(parts.tm_hour), minute: Int(parts.tm_min), second: Int(parts.tm_sec), millisecond: 0,
            utcOffset: Int(parts.tm_gmtoff))
        return local.iso8601
    }
}
