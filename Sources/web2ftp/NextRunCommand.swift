import Glibc
@_spi(Internals) import WebToFTP

/// `web2ftp next-run [--at HH:MM]… [--now UNIX] [--count N]`: when `schedule` would run next, in local time (TZ).
/// For checking a schedule before leaving it running, and for testing the calculation under a chosen time zone.
enum NextRunCommand {
    struct Arguments {
        var times: [TimeOfDay] = []
        var now = MonotonicClock.unixSeconds()
        var count = 3
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
            ])
    }

    static func run(_ arguments: [String]) -> Int32 {
        let parsed: Arguments
        switch parser.arguments(arguments, into: Arguments(), help: Usage.nextRun) {
        case .failure(let exit): return exit.status
        case .success(let value): parsed = value
        }
        let (times, now, count) = (parsed.times, parsed.now, parsed.count)
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
}
