import Testing
@_spi(Internals) import WebToFTP

@testable import web2ftp

private let time = LocalTime.now()
private let utf8 = TerminalKind(unicode: true, redraws: true)
private let ascii = TerminalKind(unicode: false, redraws: true)

private func event(
    _ level: RunEvent.Level, _ source: String?, _ name: String, _ fields: [(String, RunEvent.Value)] = []
) -> RunEvent {
    RunEvent(time: time, level: level, source: source, name: name, fields: fields.map { RunEvent.Field($0.0, $0.1) })
}

private func event(_ source: String?, _ name: String, _ fields: [(String, RunEvent.Value)] = []) -> RunEvent {
    event(.info, source, name, fields)
}

@Suite("Terminal output: numbers as people read them")
struct HumanFormatTests {
    @Test(
        "sizes are decimal, one decimal from kB up",
        arguments: [
            (0, "0 B"), (999, "999 B"), (1000, "1.0 kB"), (1049, "1.0 kB"), (1050, "1.1 kB"), (12_345_678, "12.3 MB"),
            (999_949, "999.9 kB"), (999_960, "1.0 MB"), (4_100_000_000, "4.1 GB"), (UInt64.max, "18.4 EB"),
        ] as [(UInt64, String)])
    func sizes(bytes: UInt64, shown: String) {
        #expect(HumanFormat.size(bytes) == shown)
    }

    @Test(
        "durations, spans and clocks",
        arguments: [
            (35, "35 ms", "0 s", "0:00"), (1_234, "1.2 s", "1 s", "0:01"), (59_949, "59.9 s", "59 s", "0:59"),
            (125_000, "2 min 5 s", "2 min 5 s", "2:05"), (30_000_000, "8 h 20 min", "8 h 20 min", "8:20:00"),
            (3_600_000, "1 h", "1 h", "1:00:00"), (183_600_000, "2 d 3 h", "2 d 3 h", "51:00:00"),
        ] as [(Int, String, String, String)])
    func durations(milliseconds: Int, duration: String, span: String, clock: String) {
        #expect(HumanFormat.duration(milliseconds: milliseconds) == duration)
        #expect(HumanFormat.span(seconds: Int64(milliseconds / 1000)) == span)
        #expect(HumanFormat.clock(milliseconds: milliseconds) == clock)
    }

    @Test("counts, rates, and cutting to a width in columns")
    func countsAndCuts() {
        #expect(HumanFormat.count(3000) == "3,000")
        #expect(HumanFormat.count(999) == "999")
        #expect(HumanFormat.count(1_234_567) == "1,234,567")
        #expect(HumanFormat.rate(12_300_000, milliseconds: 1000) == "12.3 MB/s")
        #expect(HumanFormat.rate(5, milliseconds: 0) == "0 B/s")
        #expect(HumanFormat.cut("abcdef", to: 6, unicode: true) == "abcdef")
        #expect(HumanFormat.cut("abcdefg", to: 6, unicode: true) == "abcde…")
        #expect(HumanFormat.cut("abcdefg", to: 6, unicode: false) == "abcde~")
        // Wide characters take two columns: three of them fill six.
        #expect(HumanFormat.columns("日本語") == 6)
        #expect(HumanFormat.cut("日本語です", to: 6, unicode: true) == "日本…")
        #expect(HumanFormat.columns("e\u{301}") == 1)
    }

    @Test(
        "Unicode only in a UTF-8 locale and not on TERM=dumb, which does not redraw either",
        arguments: [
            ([:], false, true), (["LANG": "C.UTF-8"], true, true), (["LANG": "de_DE.utf8"], true, true),
            (["LANG": "C.UTF-8", "LC_ALL": "C"], false, true), (["LC_ALL": "", "LANG": "en_US.UTF-8"], true, true),
            (["LC_CTYPE": "POSIX", "LANG": "en_US.UTF-8"], false, true),
            (["LANG": "C.UTF-8", "TERM": "dumb"], false, false),
        ] as [([String: String], Bool, Bool)])
    func kinds(environment: [String: String], unicode: Bool, redraws: Bool) {
        #expect(TerminalKind(environment: environment) == TerminalKind(unicode: unicode, redraws: redraws))
    }
}

@Suite("Terminal output: lines from events")
struct TerminalLinesTests {
    static let published = event(
        nil, "published",
        [
            ("path", .text("/in/sales.csv")), ("bytes", .integer(12_345_678)), ("duration_ms", .integer(1_234)),
            ("rows", .integer(3000)), ("bytes_per_s", .integer(10_000_000)),
        ])

    @Test(
        "a finished source is one line",
        arguments: [
            (utf8, "✓ sales  12.3 MB in 1.2 s  3,000 rows → /in/sales.csv"),
            (ascii, "ok sales  12.3 MB in 1.2 s  3,000 rows -> /in/sales.csv"),
        ])
    func publishedLine(kind: TerminalKind, line: String) {
        var published = Self.published
        published.source = "sales"
        var lines = TerminalLines(kind: kind)
        #expect(lines.lines(for: published) == [line])
    }

    @Test("an unchanged source is one line, and the summary counts it apart from the published")
    func unchangedLine() {
        var lines = TerminalLines(kind: utf8)
        for (reason, why) in [("not-modified", "not modified"), ("identical", "same bytes")] {
            let unchanged = event(nil, "unchanged", [("reason", .text(reason)), ("path", .text("/in/sales.csv"))])
            var named = unchanged
            named.source = "sales"
            #expect(lines.lines(for: named) == ["✓ sales  unchanged (\(why)), not uploaded → /in/sales.csv"])
        }
        let summary = event(
            nil, "summary",
            [
                ("sources", .integer(3)), ("succeeded", .integer(3)), ("failed", .integer(0)),
                ("unchanged", .integer(2)), ("retried", .integer(0)), ("bytes_down", .integer(0)),
                ("bytes_up", .integer(0)), ("wall_ms", .integer(100)),
            ])
        #expect(lines.lines(for: summary).dropFirst().first == "3 sources: 1 published, 2 unchanged, 0 failed")
        var sharded = summary
        sharded.fields.append(.init("shard", .text("1/4")))
        #expect(
            lines.lines(for: sharded).dropFirst().first == "3 sources of shard 1/4: 1 published, 2 unchanged, 0 failed")
    }

    @Test(
        "a failed source says why, without its URL, and whether it was tried again",
        arguments: [
            ("permanent", 1, "http://h/prices.csv: HTTP 404 Not Found", "✗ prices  404 Not Found (not retried)"),
            (
                "transient", 3, "https://h/p.csv: HTTP 503 Service Unavailable",
                "✗ prices  503 Service Unavailable (after 3 attempts)"
            ),
            ("interrupted", 1, "interrupted by SIGINT", "✗ prices  interrupted by SIGINT (interrupted)"),
            (
                "destination", 0, "the FTP destination is unusable: 530 Login incorrect.",
                "✗ prices  the FTP destination is unusable: 530 Login incorrect."
            ),
        ] as [(String, Int, String, String)])
    func failedLine(failureClass: String, attempts: Int, reason: String, line: String) {
        var lines = TerminalLines(kind: utf8)
        let failed = event(
            .error, "prices", "failed",
            [("class", .text(failureClass)), ("attempts", .integer(Int64(attempts))), ("reason", .text(reason))])
        #expect(lines.lines(for: failed) == [line])
    }

    static let summary = event(
        .warning, nil, "summary",
        [
            ("sources", .integer(3)), ("succeeded", .integer(2)), ("failed", .integer(1)), ("retried", .integer(1)),
            ("bytes_down", .integer(12_400_000)), ("bytes_up", .integer(12_300_000)), ("rows", .integer(3000)),
            ("wall_ms", .integer(4_500)),
        ])

    @Test("the summary block: counts, totals, wall time, the failed sources and the log")
    func summaryBlock() {
        var lines = TerminalLines(kind: utf8, logPath: "/var/log/web2ftp.log")
        _ = lines.lines(
            for: event(.error, "prices", "failed", [("class", .text("permanent")), ("reason", .text("x"))]))
        #expect(lines.lines(for: event(.error, "prices", "failed_summary", [("reason", .text("x"))])).isEmpty)
        #expect(
            lines.lines(for: Self.summary) == [
                "", "3 sources: 2 published, 1 failed, 1 retried",
                "12.4 MB down, 12.3 MB up, 3,000 rows in 4.5 s (2.7 MB/s)", "Failed: prices",
                "Log: /var/log/web2ftp.log",
            ])
    }

    @Test("--quiet keeps the failures and the summary of a failed run; -v adds the INFO events in the log's words")
    func quietAndVerbose() {
        var quiet = TerminalLines(kind: utf8, quiet: true)
        var published = Self.published
        published.source = "sales"
        #expect(quiet.lines(for: published).isEmpty)
        #expect(quiet.lines(for: event(nil, "run", [("mode", .text("parallel"))])).isEmpty)
        #expect(
            quiet.lines(for: event(.warning, "s", "csv", [("detail", .text("bad row"))])) == [
                "WARN [s] csv detail=\"bad row\""
            ])
        #expect(quiet.lines(for: Self.summary).count == 3)
        var clean = Self.summary
        clean.level = .info
        #expect(quiet.lines(for: clean).isEmpty)

        var plain = TerminalLines(kind: utf8)
        #expect(plain.lines(for: event(nil, "attempt 1/3")).isEmpty)
        #expect(plain.lines(for: event(nil, "run", [("mode", .text("parallel"))])).isEmpty)
        var verbose = TerminalLines(kind: utf8, verbose: true)
        #expect(verbose.lines(for: event("s", "attempt 1/3")) == ["INFO [s] attempt 1/3"])
        #expect(verbose.lines(for: event(nil, "run", [("mode", .text("parallel"))])) == ["INFO run mode=parallel"])
    }

    @Test(
        "an interrupt says once how to stop at once; a retry says when; a control character cannot reach the terminal")
    func interruptAndRetry() {
        var lines = TerminalLines(kind: utf8)
        #expect(
            lines.lines(for: event(.warning, nil, "interrupted", [("signal", .text("SIGINT"))])) == [
                "Interrupted by SIGINT: stopping and cleaning up (press Ctrl-C again to stop at once)"
            ])
        #expect(
            lines.lines(for: event(.warning, nil, "interrupted", [("signal", .text("SIGTERM"))])) == [
                "Interrupted by SIGTERM: stopping and cleaning up"
            ])
        #expect(
            lines.lines(
                for: event(
                    .warning, "s", "retry",
                    [("delay", .text("1500ms")), ("reason", .text("http://h/s.csv: HTTP 503 Service Unavailable"))]))
                == ["↻ s  503 Service Unavailable, again in 1.5 s"])
        #expect(
            lines.lines(
                for: event(
                    .warning, "s", "retry",
                    [
                        ("delay", .text("1500ms")), ("reason", .text("connection reset")),
                        ("resume_from", .integer(58_720_256)),
                    ])) == ["↻ s  connection reset, again in 1.5 s, resuming at 58.7 MB"])
        #expect(
            lines.lines(for: event(.error, "evil\u{1B}[2J", "failed", [("reason", .text("x\ny"))]))
                == ["✗ evil?[2J  x?y"])
    }
}

@Suite("Terminal output: the live lines, cut to the width")
struct LiveLinesTests {
    static let progress = RunProgress(
        stage: .transferring,
        running: [
            TransferProgress(
                name: "a_source_with_a_rather_long_name_indeed", bytes: 5_000_000, total: 10_000_000, elapsedMS: 2000),
            TransferProgress(name: "b", bytes: 1_000, total: nil, elapsedMS: 1000),
        ], waiting: ["c"], done: 3, failed: 1, total: 10, bytes: 8_000_000, elapsedMS: 14_000)

    @Test("at 120 columns nothing is cut")
    func wide() {
        #expect(
            LiveLines.run(Self.progress, width: 120, kind: utf8) == [
                "3/10 done · 1 failed · 0:14 · 8.0 MB · 571.4 kB/s",
                "  a_source_with_a_rather_long_name_indeed  5.0 MB  2.5 MB/s  50%  ETA 0:02", "  b  1.0 kB  1.0 kB/s",
                "  c  waiting to retry",
            ])
    }

    @Test("at 40 columns every line fits in 39, a cut one ends in …", arguments: [utf8, ascii])
    func narrow(kind: TerminalKind) {
        let lines = LiveLines.run(Self.progress, width: 40, kind: kind)
        #expect(lines.count == 4)
        for line in lines { #expect(HumanFormat.columns(line) <= 39, "\(line)") }
        #expect(lines[1] == "  a_source_with_a_rather_long_name_ind" + (kind.unicode ? "…" : "~"))
    }

    @Test("before the first transfer and after the last, the line says what is going on, never `0 running`")
    func stages() {
        var progress = Self.progress
        progress.running = []
        progress.waiting = []
        progress.stage = .preparing
        #expect(
            LiveLines.run(progress, width: 120, kind: ascii) == ["3/10 done, 1 failed, 0:14, FTP login, old leftovers"])
        progress.stage = .finishing
        #expect(LiveLines.run(progress, width: 120, kind: utf8) == ["3/10 done · 1 failed · 0:14 · cleaning up"])
    }

    @Test("get's meter, schedule's idle line and next-run's line")
    func otherLines() {
        #expect(
            LiveLines.meter(
                name: "large.csv", bytes: 12_300_000, total: 45_000_000, elapsedMS: 4_000, width: 120, kind: utf8)
                == "large.csv  12.3 MB / 45.0 MB  27%  3.1 MB/s  ETA 0:10")
        #expect(
            LiveLines.meter(name: "large.csv", bytes: 1_000, total: nil, elapsedMS: 1_000, width: 12, kind: ascii)
                == "large.cs~", "cut three columns short: a ^C echoed after it stays on its row")
        let time = LiveLines.WallTime(year: 2026, month: 12, day: 1, hour: 22, minute: 23, second: 0)
        #expect(LiveLines.nextRun(time, zone: "CET", inSeconds: 30_000) == "2026-12-01 22:23:00 CET (in 8 h 20 min)")
        let last = LiveLines.LastRun(started: "22:23", sources: 3, failed: 0)
        #expect(
            LiveLines.idle(next: "2026-12-01 22:23:00 CET", inSeconds: 45, last: last, width: 120, kind: utf8)
                == "Idle · next run 2026-12-01 22:23:00 CET (in 45 s) · last run 22:23: 3/3 published")
        #expect(
            LiveLines.idle(next: "2026-12-01 22:23:00 CET", inSeconds: 45, last: nil, width: 40, kind: utf8)
                == "Idle · next run 2026-12-01 22:23:00 CE…")
    }
}
