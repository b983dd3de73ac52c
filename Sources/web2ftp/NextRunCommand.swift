import Glibc
@_spi(Internals) import WebToFTP

/// `web2ftp next-run [--at HH:MM]… [--now UNIX] [--count N] [--unix]`: when `schedule` would run next, in local time
/// (TZ). For checking a schedule before leaving it running, and for testing the calculation under a chosen time zone.
/// People first (`2026-12-01 22:23:00 CET (in 8 h 20 min)`); `--unix` prints what scripts parse, as it always was
/// (`1796160180 2026-12-01T22:23:00.000+01:00`).
enum NextRunCommand {
    static func run(_ arguments: [String]) -> Int32 {
        var times: [TimeOfDay] = []
        var now = MonotonicClock.unixSeconds()
        var count = 3
        var unix = false
        var index = 0
        while index < arguments.count {
            let flag = arguments[index]
            index += 1
            if flag == "--unix" {
                unix = true
                continue
            }
            let value = index < arguments.count ? arguments[index] : ""
            index += 1
            switch flag {
            case "--at":
                guard let time = TimeOfDay(value) else { return usage("--at needs HH:MM or HH:MM:SS") }
                times.append(time)
            case "--now":
                guard let seconds = Int64(value) else { return usage("--now needs Unix seconds") }
                now = seconds
            case "--count":
                guard let number = Int(value), (1...100).contains(number) else { return usage("--count needs 1…100") }
                count = number
            default:
                return usage("unknown option '\(flag)'")
            }
        }
        let schedule = DailySchedule(times: times.isEmpty ? [TimeOfDay("22:23")!] : times)
        var last: LocalSlot?
        var after = now
        for _ in 0..<count {
            let next = schedule.next(after: after, lastFired: last)
            if unix {
                writeOut("\(next.unixTime) \(DailySchedule.describe(next.unixTime))\n", to: 1)
            } else {
                writeOut(people(next.unixTime, now: now) + "\n", to: 1)
            }
            last = next.slot
            after = next.unixTime
        }
        return 0
    }

    /// `2026-12-01 22:23:00 CET`, in the process's time zone (TZ), with how long until then when `now` is given.
    static func people(_ unixTime: Int64, now: Int64? = nil) -> String {
        var seconds = time_t(unixTime)
        var parts = tm()
        localtime_r(&seconds, &parts)
        let local = LiveLines.WallTime(
            year: Int(parts.tm_year) + 1900, month: Int(parts.tm_mon) + 1, day: Int(parts.tm_mday),
            hour: Int(parts.tm_hour), minute: Int(parts.tm_min), second: Int(parts.tm_sec))
        let zone = parts.tm_zone.map { String(cString: $0) } ?? ""
        guard let now else { return "\(local) \(zone)" }
        return LiveLines.nextRun(local, zone: zone, inSeconds: unixTime - now)
    }

    static func usage(_ message: String) -> Int32 {
        writeOut(
            "web2ftp next-run: \(message)\nusage: web2ftp next-run [--at HH:MM]… [--now UNIX] [--count N] [--unix]\n",
            to: 2)
        return 2
    }
}
