import Glibc
@_spi(Internals) import WebToFTP

/// `web2ftp next-run [--at HH:MM]… [--now UNIX] [--count N] [--unix]`: when `schedule` would run next, in local time
/// (TZ). For checking a schedule before leaving it running, and for testing the calculation under a chosen time zone.
/// People first (`2026-12-01 22:23:00 CET (in 8 h 20 min)`); `--unix` prints what scripts parse, as it always was
/// (`1796160180 2026-12-01T22:23:00.000+01:00`).
enum NextRunCommand {
    struct Arguments {
        var times: [TimeOfDay] = []
        var now = MonotonicClock.unixSeconds()
        var count = 3
        var unix = false
    }

    static var parser: OptionParser<Arguments> {
        OptionParser<Arguments>(
            "next-run",
            [
                .value("--at", as: "HH:MM or HH:MM:SS") { arguments, word throws(Message) in
                    guard let time = TimeOfDay(word) else {
                        throw Message("--at '\(word)' is not a time of day (expected HH:MM or HH:MM:SS)")
                    }
                    arguments.times.append(time)
                },
                .value("--now", as: "Unix seconds") { arguments, word throws(Message) in
                    guard let seconds = Int64(word) else { throw Message("--now '\(word)' is not Unix seconds") }
                    arguments.now = seconds
                },
                .value("--count", as: "a number from 1 to 100") { arguments, word throws(Message) in
                    arguments.count = try number(word, 1...100, "--count")
                },
                .flag("--unix") { $0.unix = true },
            ])
    }

    static func run(_ arguments: [String]) -> Int32 {
        let parsed: Arguments
        switch parser.arguments(arguments, into: Arguments(), help: Usage.nextRun) {
        case .failure(let exit): return exit.status
        case .success(let value): parsed = value
        }
        let (times, now, count, unix) = (parsed.times, parsed.now, parsed.count, parsed.unix)
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

}
