import Foundation
@_spi(Internals) import Reactor
@_spi(Internals) import TestSupport
import Testing

/// A web server that sends `chunks` chunks of 10,000 bytes (CSV lines), `pauseMS` apart, under a Content-Length.
private func slowServer(chunks: Int, pauseMS: Int) async throws -> (EventLoopThread, Int) {
    let chunk = String(repeating: "123456789\n", count: 1000)
    return try await scriptedServer { _, _ in
        [.send("HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: \(chunks * 10_000)\r\n\r\n")]
            + (0..<chunks).flatMap { _ in [ScriptedServer.Step.send(chunk), .pause(milliseconds: pauseMS)] }
    }
}

extension Scenario {
    /// `web2ftp ARGUMENTS` on this scenario, on a terminal `columns` wide.
    func onTerminal(
        _ arguments: [String], columns: Int, environment: [String: String] = [:], steps: [TerminalStep] = []
    ) throws -> TerminalRun {
        try runOnTerminal(
            "web2ftp",
            arguments + [
                "--config", directory + "/config.json", "--log", directory + "/etl_pipeline.log", "--cacert",
                TestEnv.caFile, "--summary-json", directory + "/summary.json",
            ], columns: columns, environment: self.environment.merging(environment) { $1 }, steps: steps)
    }
}

@Suite("On a terminal: people's lines, a live block cut to the width, a summary block (pty + pyte)")
struct TerminalTests {
    init() throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
    }

    static let longName = "a_source_with_a_rather_long_name_indeed_and_more"

    @Test(
        "a run: ✓ and ✗ lines, the live block while it runs (no line wraps), the summary block", arguments: [40, 120])
    func run(columns: Int) async throws {
        let (thread, port) = try await slowServer(chunks: 20, pauseMS: 100)
        defer { thread.shutdown() }
        let scenario = try Scenario("tty-\(columns)")
        try scenario.writeConfig(
            """
            {"\(Self.longName)": {"URL": "http://127.0.0.1:\(port)/slow.csv"},
             "small": {"URL": "\(http)/small.csv", "PARAMS": {"sep": ","}}, "missing": {"URL": "\(http)/nope.csv"}}
            """)
        let run = try scenario.onTerminal(
            ["manual", "parallel"], columns: columns, steps: [TerminalStep(when: " · 0:01 · ", "snapshot")])
        #expect(run.status == 1, "\(run.shown)")
        #expect(!run.timedOut)
        // While it ran: the aggregate line, and the slow source's line cut to the width, on one row.
        let live = try #require(run.snapshots.first)
        #expect(live.contains { $0.hasPrefix("2/3 done · 1 failed · 0:01 · ") }, "\(live)")
        let transfer = try #require(live.first { $0.hasPrefix("  a_source_with") }, "\(live)")
        if columns == 40 {
            #expect(transfer.count == 39 && transfer.hasSuffix("…"), "\(transfer)")
        } else {
            #expect(transfer.contains(Self.longName + "  ") && transfer.contains(" kB/s  "), "\(transfer)")
            #expect(transfer.contains("%  ETA 0:0"), "\(transfer)")
        }
        // At the end: one line per source, the summary block, and nothing left of the live block.
        let screen = run.screen
        #expect(screen.contains("✗ missing  404 Not Found (not retried)"), "\(run.shown)")
        #expect(screen.contains { $0.hasPrefix("✓ small  103 B in ") && $0.contains(" 3 rows → /") }, "\(run.shown)")
        #expect(screen.contains { $0.hasPrefix("✓ \(Self.longName.prefix(20))") }, "\(run.shown)")
        #expect(screen.contains("3 sources: 2 published, 1 failed"), "\(run.shown)")
        #expect(screen.contains { $0.hasPrefix("200.1 kB down, 200.1 kB up, 3 rows in ") }, "\(run.shown)")
        #expect(screen.contains("Failed: missing"))
        #expect(screen.contains("Log: \(scenario.directory)/etl_pipeline.log") || columns == 40, "\(run.shown)")
        #expect(!screen.contains { $0.contains(" done · ") || $0.hasPrefix("  a_source") }, "stale: \(run.shown)")
        // The log format stays in the log file.
        #expect(!run.raw.contains(" INFO ") && !run.raw.contains(" ERROR "), "\(run.raw)")
        #expect(scenario.log.contains(" INFO [small] published path="), "\(scenario.log)")
        #expect(scenario.log.contains(" bytes_per_s="))
        #expect(scenario.log.contains(" throughput_bytes_per_s="))
    }

    @Test("Ctrl-C: said once how to stop at once; the source cut short is interrupted; bytes_down counts what it got")
    func interrupt() async throws {
        let (thread, port) = try await slowServer(chunks: 200, pauseMS: 100)
        defer { thread.shutdown() }
        let scenario = try Scenario("tty-int")
        try scenario.writeConfig("{\"slow\": {\"URL\": \"http://127.0.0.1:\(port)/slow.csv\"}}")
        let run = try scenario.onTerminal(
            ["manual", "sequential"], columns: 80, steps: [TerminalStep(when: "  slow  1", "ctrl-c")])
        #expect(run.status == 130, "\(run.shown)")
        #expect(run.raw.components(separatedBy: "press Ctrl-C again to stop at once").count == 2, "\(run.raw)")
        #expect(run.screen.contains { $0.hasPrefix("✗ slow  interrupted by SIGINT (interrupted)") }, "\(run.shown)")
        #expect(scenario.log.contains("[slow] failed class=interrupted"), "\(scenario.log)")
        let received = try #require(scenario.summary?["bytes_down"] as? Int)
        #expect(received >= 10_000, "bytes_down \(received)")
        let source = try #require((scenario.summary?["sources"] as? [[String: Any]])?.first)
        #expect(source["bytes_down"] as? Int == received)
        #expect(scenario.files.isEmpty, "\(scenario.files)")
    }

    @Test("--quiet on a terminal: the failures and the summary of a failed run, nothing else")
    func quiet() throws {
        let scenario = try Scenario("tty-quiet")
        try scenario.writeConfig(
            "{\"small\": {\"URL\": \"\(http)/small.csv\"}, \"missing\": {\"URL\": \"\(http)/nope.csv\"}}")
        let run = try scenario.onTerminal(["manual", "sequential", "--quiet"], columns: 120)
        #expect(run.status == 1)
        #expect(
            run.screen.filter { !$0.isEmpty }.first == "✗ missing  404 Not Found (not retried)", "\(run.shown)")
        #expect(run.screen.contains("2 sources: 1 published, 1 failed"), "\(run.shown)")
        #expect(!run.shown.contains("✓"), "\(run.shown)")
        #expect(!run.raw.contains("\u{1B}["), "no live block under --quiet")

        try scenario.writeConfig("{\"small\": {\"URL\": \"\(http)/small.csv\"}}")
        let clean = try scenario.onTerminal(["manual", "sequential", "--quiet"], columns: 120)
        #expect(clean.status == 0)
        #expect(clean.raw.isEmpty, "\(clean.raw)")
    }

    @Test("plain ASCII and no redrawing on TERM=dumb; ASCII in the C locale; -v adds the INFO lines")
    func asciiAndVerbose() throws {
        let scenario = try Scenario("tty-ascii")
        try scenario.writeConfig(
            "{\"small\": {\"URL\": \"\(http)/small.csv\"}, \"missing\": {\"URL\": \"\(http)/nope.csv\"}}")
        let dumb = try scenario.onTerminal(["manual", "sequential"], columns: 40, environment: ["TERM": "dumb"])
        #expect(dumb.status == 1)
        #expect(
            dumb.screen.contains { $0.hasPrefix("ok small  103 B in ") && $0.hasSuffix(" ->") || $0.contains(" -> /") })
        #expect(dumb.screen.contains { $0.hasPrefix("FAIL missing  404 Not Found (not") }, "\(dumb.shown)")
        #expect(!dumb.raw.contains("\u{1B}"), "\(dumb.raw)")
        #expect(!dumb.raw.unicodeScalars.contains { $0.value > 127 }, "\(dumb.raw)")

        let c = try scenario.onTerminal(["manual", "sequential", "-v"], columns: 120, environment: ["LANG": "C"])
        #expect(c.screen.contains("FAIL missing  404 Not Found (not retried)"), "\(c.shown)")
        #expect(c.screen.contains("INFO [small] attempt 1/3"), "\(c.shown)")
        #expect(c.screen.contains { $0.hasPrefix("INFO run mode=sequential ") }, "\(c.shown)")
    }

    @Test(
        "schedule on a terminal: the idle line says when the next run is and how the last went", arguments: [40, 120])
    func scheduleIdle(columns: Int) throws {
        let scenario = try Scenario("tty-idle")
        try scenario.writeConfig("{\"small\": {\"URL\": \"\(http)/small.csv\"}}")
        let run = try scenario.onTerminal(
            ["schedule", "sequential", "--run-now", "--at", "04:00"], columns: columns,
            environment: ["TZ": "UTC"],
            steps: [TerminalStep(when: "Idle", "snapshot"), TerminalStep(when: "Idle", "ctrl-c")])
        #expect(run.status == 0, "\(run.shown)")
        let idle = try #require(run.snapshots.first?.first { $0.hasPrefix("Idle") }, "\(run.snapshots)")
        if columns == 40 {
            #expect(idle.hasPrefix("Idle · next run 20") && idle.hasSuffix("…") && idle.count == 39, "\(idle)")
        } else {
            #expect(idle.contains(" 04:00:00 UTC (in "), "\(idle)")
            #expect(idle.hasSuffix(": 1/1 published"), "\(idle)")
        }
        #expect(run.screen.contains { $0.hasPrefix("Scheduled: every day at 04:00") || columns == 40 }, "\(run.shown)")
        #expect(run.screen.contains { $0.hasPrefix("✓ small  103 B in ") }, "\(run.shown)")
        #expect(run.screen.contains("Stopped (SIGINT): no run was going"), "\(run.shown)")
        #expect(!run.screen.contains { $0.hasPrefix("Idle") }, "the idle line is gone at exit: \(run.shown)")
    }
}

@Suite("get on a terminal (pty + pyte)")
struct GetTerminalTests {
    @Test("a progress meter while it downloads; Ctrl-C removes FILE.part-PID and exits 130", arguments: [40, 120])
    func meterAndInterrupt(columns: Int) async throws {
        let (thread, port) = try await slowServer(chunks: 200, pauseMS: 100)
        defer { thread.shutdown() }
        let directory = NSTemporaryDirectory() + "w2f-get-tty-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try runOnTerminal(
            "web2ftp", ["get", "http://127.0.0.1:\(port)/slow.csv", "-o", directory + "/out.csv"], columns: columns,
            steps: [TerminalStep(when: "0 kB / ", "snapshot"), TerminalStep(when: "0 kB / ", "ctrl-c")])
        #expect(run.status == 130, "\(run.shown)")
        let meter = try #require(run.snapshots.first?.first { $0.hasPrefix("out.csv  ") }, "\(run.snapshots)")
        if columns == 120 {
            #expect(meter.contains(" / 2.0 MB  ") && meter.contains("%  ") && meter.contains(" kB/s  ETA "), "\(meter)")
        } else {
            #expect(meter.count <= 37, "\(meter)")
        }
        #expect(
            // Rows joined without their trailing blanks: a line wrapped at a space loses it.
            run.screen.joined().replacingOccurrences(of: " ", with: "")
                .contains("web2ftp:interruptedbySIGINT:removed\(directory)/out.csv.part-"),
            "\(run.shown)")
        #expect(!run.screen.contains { $0.hasPrefix("out.csv  ") }, "the meter is gone: \(run.shown)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    @Test("SIGTERM removes FILE.part-PID too and exits 143; off a terminal there is no meter")
    func terminate() async throws {
        let (thread, port) = try await slowServer(chunks: 200, pauseMS: 100)
        defer { thread.shutdown() }
        let directory = NSTemporaryDirectory() + "w2f-get-term-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try runOnTerminal(
            "web2ftp", ["get", "http://127.0.0.1:\(port)/slow.csv", "-o", directory + "/out.csv"], columns: 80,
            steps: [TerminalStep(when: "out.csv", "sigterm")])
        #expect(run.status == 143, "\(run.shown)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
        let plain = try runProduct("web2ftp", ["get", "\(http)/small.csv", "-o", directory + "/small.csv"])
        #expect(plain.status == 0)
        #expect(!plain.error.contains("\r") && !plain.error.contains("\u{1B}"), "\(plain.error)")
    }
}

@Suite("bytes_down counts what failed sources received")
struct FailedBytesTests {
    @Test("a body cut short twice: the summary's bytes_down is both attempts' bytes, the source's too")
    func truncated() async throws {
        try TestEnv.require(.vsftpd)
        let (thread, port) = try await scriptedServer { _, _ in
            [
                .send("HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: 100000\r\n\r\n"),
                .send(String(repeating: "123456789\n", count: 3000)), .close,
            ]
        }
        defer { thread.shutdown() }
        let scenario = try Scenario("failed-bytes")
        try scenario.writeConfig("{\"cut\": {\"URL\": \"http://127.0.0.1:\(port)/cut.csv\"}}")
        let run = try scenario.run("sequential", ["--retries", "1"])
        #expect(run.status == 1, "\(run.error)")
        #expect(scenario.summary?["bytes_down"] as? Int == 60_000, "\(String(describing: scenario.summary))")
        let source = try #require((scenario.summary?["sources"] as? [[String: Any]])?.first)
        #expect(source["bytes_down"] as? Int == 60_000)
        #expect(
            run.error.contains(" summary sources=1 succeeded=0 failed=1 unchanged=0 retried=1 bytes_down=60000 "),
            "\(run.error)")
    }
}

@Suite("preview: interrupted, and read by a pipe that closes early")
struct PreviewInterruptTests {
    @Test("SIGINT and SIGTERM remove -o FILE's FILE.part-PID and exit 130/143", arguments: [SIGINT, SIGTERM])
    func interrupted(signal: Int32) async throws {
        let (thread, port) = try await slowServer(chunks: 200, pauseMS: 100)
        defer { thread.shutdown() }
        let directory = NSTemporaryDirectory() + "w2f-preview-int-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "{\"slow\": {\"URL\": \"http://127.0.0.1:\(port)/slow.csv\"}}".write(
            toFile: directory + "/config.json", atomically: true, encoding: .utf8)
        let process = try startProduct(
            "web2ftp",
            ["preview", "slow", "--config", directory + "/config.json", "--rows", "all", "-o", directory + "/out.csv"])
        let part = "out.csv.part-\(process.processIdentifier)"
        for _ in 0..<3000 where !(try FileManager.default.contentsOfDirectory(atPath: directory)).contains(part) {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).contains(part), "never started")
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == (signal == SIGINT ? 130 : 143))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["config.json"])
    }

    @Test("`preview … | head -2` ends quietly with 0 when head has its lines")
    func readerGoesAway() throws {
        try TestEnv.require(.nginxHTTP)
        let directory = NSTemporaryDirectory() + "w2f-preview-pipe-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "{\"large\": {\"URL\": \"\(http)/large.csv\"}}".write(
            toFile: directory + "/config.json", atomically: true, encoding: .utf8)
        let binary = try productPath("web2ftp")
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/bash")
        shell.arguments = [
            "-c",
            "'\(binary)' preview large --config '\(directory)/config.json' --rows all 2>'\(directory)/err' | head -2 "
                + ">/dev/null; exit ${PIPESTATUS[0]}",
        ]
        try shell.run()
        shell.waitUntilExit()
        let error = (try? String(contentsOfFile: directory + "/err", encoding: .utf8)) ?? ""
        #expect(shell.terminationStatus == 0, "\(error)")
        #expect(!error.contains("ERROR") && !error.contains("EPIPE"), "\(error)")
    }
}
