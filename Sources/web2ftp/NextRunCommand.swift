import Glibc
@_spi(Internals) import WebToFTP

/// `web2ftp next-run [--at HH:MM]… [--now UNIX] [--count N]`: when `schedule` would run next, in local time (TZ).
/// For checking a schedule before leaving it running, and for testing the calculation under a chosen time zone.
enum NextRunCommand {
    static func run(_ arguments: [String]) -> Int32 {
        var times: [TimeOfDay] = []
        var now = MonotonicClock.unixSeconds()
        var count = 3
        var index = 0
        while index < arguments.count {
            let flag = arguments[index]
            index += 1
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
            writeOut("\(next.unixTime) \(DailySchedule.describe(next.unixTime))\n", to: 1)
            last = next.slot
            after = next.unixTime
        }
        return 0
    }

    static func usage(_ message: String) -> Int32 {
        writeOut(
            "web2ftp next-run: \(message)\nusage: web2ftp next-run [--at HH:MM]… [--now UNIX] [--count N]\n", to: 2)
        return 2
    }
}
