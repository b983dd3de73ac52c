import Foundation
@_spi(Internals) import Reactor
@_spi(Internals) import TestSupport
import Testing

@Suite("schedule: next run times under a real time zone (child process: TZ is process-wide)")
struct NextRunTests {
    func nextRuns(_ tz: String, at: String, now: Int, count: Int = 2) throws -> [String] {
        let run = try runProduct(
            "web2ftp", ["next-run", "--unix", "--at", at, "--now", "\(now)", "--count", "\(count)"],
            environment: ["TZ": tz])
        #expect(run.status == 0, "\(run.error)")
        return run.output.split(separator: "\n").map { String($0.split(separator: " ")[1]) }
    }

    @Test("a time skipped by the spring DST change runs at the next valid time")
    func gap() throws {
        // 2026-03-28 12:00 UTC; in Berlin 02:00 → 03:00 on 2026-03-29.
        #expect(
            try nextRuns("Europe/Berlin", at: "02:30", now: 1_774_699_200) == [
                "2026-03-29T03:30:00.000+02:00", "2026-03-30T02:30:00.000+02:00",
            ])
    }

    @Test("a time that happens twice in the autumn runs once")
    func repeatHour() throws {
        // 2026-10-24 12:00 UTC; in Berlin 03:00 → 02:00 on 2026-10-25.
        #expect(
            try nextRuns("Europe/Berlin", at: "02:30", now: 1_792_843_200) == [
                "2026-10-25T02:30:00.000+02:00", "2026-10-26T02:30:00.000+01:00",
            ])
    }

    @Test("after a clock step the next run is worked out from the new time; several times a day in order")
    func stepAndSeveral() throws {
        // Stepped to 2026-06-01 23:00 UTC (01:00 in Berlin on the 2nd): the 22:23 of the 1st is gone.
        #expect(
            try nextRuns("Europe/Berlin", at: "22:23", now: 1_780_354_800, count: 1) == [
                "2026-06-02T22:23:00.000+02:00"
            ])
        let run = try runProduct(
            "web2ftp", ["next-run", "--at", "18:00", "--at", "06:00", "--now", "1780354800", "--count", "3", "--unix"],
            environment: ["TZ": "UTC"])
        #expect(
            run.output.split(separator: "\n").map { String($0.split(separator: " ")[1]) } == [
                "2026-06-02T06:00:00.000+00:00", "2026-06-02T18:00:00.000+00:00", "2026-06-03T06:00:00.000+00:00",
            ])
    }
}

@Suite("next-run: people first, --unix for scripts")
struct NextRunOutputTests {
    @Test("the local time with its zone and how long until then; --unix prints what it always printed")
    func peopleFirst() throws {
        // 2026-12-01 22:23:00 CET is 1796160180; 8 h 20 min before it.
        let now = 1_796_160_180 - 30_000
        let run = try runProduct(
            "web2ftp", ["next-run", "--now", "\(now)", "--count", "2"], environment: ["TZ": "Europe/Berlin"])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output == "2026-12-01 22:23:00 CET (in 8 h 20 min)\n2026-12-02 22:23:00 CET (in 1 d 8 h)\n")
        let unix = try runProduct(
            "web2ftp", ["next-run", "--now", "\(now)", "--count", "2", "--unix"], environment: ["TZ": "Europe/Berlin"])
        #expect(unix.output == "1796160180 2026-12-01T22:23:00.000+01:00\n1796246580 2026-12-02T22:23:00.000+01:00\n")
    }
}

/// Whether `condition` comes true, looked at every 100 ms, `tries` times at most.
private func eventually(tries: Int, _ condition: () -> Bool) async throws -> Bool {
    for _ in 0..<tries {
        if condition() { return true }
        try await Task.sleep(nanoseconds: 100_000_000)
    }
    return false
}

@Suite("schedule mode, end to end")
struct ScheduleEndToEndTests {
    @Test(
        """
        a trigger a few seconds ahead runs once, then the scheduler waits; a broken config edit skips the next run; \
        SIGTERM while idle exits 0
        """
    )
    func runsOnceThenWaits() async throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
        let scenario = try Scenario("schedule")
        try scenario.writeConfig("{\"s\": {\"URL\": \"\(http)/small.csv\"}}")
        // A time of day three seconds from now, in UTC (TZ is set for the child).
        let soon = Date().addingTimeInterval(3)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.hour, .minute, .second], from: soon)
        let at = String(format: "%02d:%02d:%02d", parts.hour!, parts.minute!, parts.second!)
        let later = calendar.dateComponents([.hour, .minute, .second], from: soon.addingTimeInterval(8))
        let atLater = String(format: "%02d:%02d:%02d", later.hour!, later.minute!, later.second!)
        let process = try scenario.start(
            ["schedule", "sequential", "--at", at, "--at", atLater],
            environment: scenario.environment.merging(["TZ": "UTC"]) { $1 })
        // As soon as the first run has started (it has read its config by then), break the config: the second
        // trigger must skip its run and leave the scheduler up. The wait blocks this thread on purpose: awaiting
        // here let other tests' blocking child processes hold the cooperative pool past the second trigger (seen
        // under the address sanitizer and on a loaded machine).
        for _ in 0..<300 where !scenario.log.contains(" run trigger=schedule") {
            usleep(20_000)
        }
        try scenario.writeConfig("{\"s\": {\"URL\": ")
        let published = try await eventually(tries: 150) { scenario.log.contains("[s] published") }
        #expect(published, "no run within 15 s: \(scenario.log)")
        let skipped = try await eventually(tries: 100) { scenario.log.contains("skipped reason=\"config:") }
        #expect(skipped, "the broken config was not reported: \(scenario.log)")
        try await Task.sleep(nanoseconds: 500_000_000)
        #expect(process.isRunning, "the scheduler must stay up")
        // logrotate's way: move the file, send SIGHUP; the next line goes to a new file under the old name.
        let logPath = scenario.directory + "/etl_pipeline.log"
        try FileManager.default.moveItem(atPath: logPath, toPath: logPath + ".1")
        kill(process.processIdentifier, SIGHUP)
        let reopened = try await eventually(tries: 50) { scenario.log.contains("log_reopened") }
        #expect(reopened, "SIGHUP did not reopen the log")
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let log =
            (try String(contentsOfFile: scenario.directory + "/etl_pipeline.log.1", encoding: .utf8)) + scenario.log
        #expect(log.components(separatedBy: " run trigger=schedule").count - 1 == 1)
        #expect(log.contains("next_run at="))
        // A long-lived scheduler must not gather descriptors run by run.
        let figures = log.split(separator: "\n").first { $0.contains(" summary ") }.map {
            (
                $0.components(separatedBy: "open_fds_start=").last?.prefix { $0.isNumber },
                $0.components(separatedBy: "open_fds_end=").last?.prefix { $0.isNumber }
            )
        }
        #expect(figures?.0 != nil && figures?.0 == figures?.1, "descriptors at the run's start and end: \(log)")
        #expect(log.contains("stopped signal=SIGTERM"))
        #expect(scenario.files == ["s.csv"])
    }
}

@Suite("schedule: memory while idle (child process)")
struct ScheduleIdleMemoryTests {
    /// VmRSS and RssFile of a process, in KiB.
    func resident(_ pid: Int32) throws -> (total: Int, file: Int) {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let field = { (key: String) -> Int in
            let line = status.split(separator: "\n").first { $0.hasPrefix(key + ":") } ?? ""
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
        }
        return (field("VmRSS"), field("RssFile"))
    }

    @Test("after a run, an idle scheduler gives back the code pages the run touched")
    func codePagesGoBack() async throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
        let scenario = try Scenario("idle-memory")
        try scenario.writeConfig("{\"s\": {\"URL\": \"\(http)/small.csv\"}}")
        let process = try scenario.start(["schedule", "sequential", "--at", "03:00", "--run-now"])
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        let published = try await eventually(tries: 300) { scenario.log.contains("[s] published") }
        #expect(published, "no run within 30 s: \(scenario.log)")
        // Without the release, the debug build's idle scheduler keeps 13–16 MiB of code pages mapped after a run;
        // with it, 5–6 MiB (libcrypto's read-only data and the Swift runtime's, which other processes share).
        var figures = (total: 0, file: 0)
        let released = try await eventually(tries: 150) {
            figures = (try? resident(process.processIdentifier)) ?? (0, 0)
            return figures.file > 0 && figures.file < 8192
        }
        #expect(released, "RssFile \(figures.file) KiB, VmRSS \(figures.total) KiB 15 s after the run")
    }
}

@Suite("IdleMemory: which mappings are asked to go")
struct IdleMemoryMapsTests {
    @Test("file-backed, not writable, no page of its own: never the heap, the stack, anonymous, writable or relocated")
    func selection() {
        let maps = """
            55d0c0000000-55d0c0200000 r--p 00000000 fd:01 1234 /usr/local/bin/web2ftp
            55d0c0200000-55d0c0900000 r-xp 00200000 fd:01 1234 /usr/local/bin/web2ftp
            55d0c0900000-55d0c0a00000 rw-p 00900000 fd:01 1234 /usr/local/bin/web2ftp
            55d0c1000000-55d0c1100000 rw-p 00000000 00:00 0 [heap]
            7f0000000000-7f0000100000 rw-p 00000000 00:00 0
            7f0000200000-7f0000300000 r-xp 00000000 fd:01 77 /usr/lib/x86_64-linux-gnu/libcrypto.so.3
            Rss:                 512 kB
            Anonymous:             0 kB
            7f0000400000-7f0000500000 r-xp 00000000 fd:01 78 /opt/vendor/libtextrel.so
            Rss:                  64 kB
            Anonymous:             4 kB
            7f0000300000-7f0000301000 r--s 00000000 00:05 0 /SYSV00000000 (deleted)
            7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]
            ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]
            garbage line
            """
        let picked = IdleMemory.fileBackedReadOnly(Array(maps.utf8))
        #expect(
            picked == [
                .init(start: 0x55d0_c000_0000, end: 0x55d0_c020_0000, executable: false),
                .init(start: 0x55d0_c020_0000, end: 0x55d0_c090_0000, executable: true),
                .init(start: 0x7f00_0020_0000, end: 0x7f00_0030_0000, executable: true),
            ])
    }
}
