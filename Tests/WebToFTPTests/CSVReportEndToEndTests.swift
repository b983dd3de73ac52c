import Foundation
@_spi(Internals) import TestSupport
import Testing

/// What a run says about its CSV work (issue #13): keys accepted without effect, once per source per run; the
/// counters on the `published` line, in `summary` and in `--summary-json`; a date column that never parses.
@Suite("CSV counters and notes, end to end")
struct CSVReportEndToEndTests {
    init() throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
    }

    @Test("ignored keys, counters, per-column unparsed dates and the never-parsed warning")
    func report() throws {
        let scenario = try Scenario("csv-report")
        let id = UUID().uuidString.prefix(8)
        // Four data records after the header, a comment and a blank line: one too long (skipped), one with a byte
        // that is not UTF-8 (replaced), one date that does not parse, two numbers in decimal-comma notation.
        let counted: [UInt8] =
            Array("d;n;t\n# note\n\n01.02.2024;1.234,5;x\nnope;7;y;extra\n;2,5;".utf8) + [0xFF]
            + Array("\nlater;3;z\n".utf8)
        try Data(counted).write(to: URL(fileURLWithPath: TestEnv.wwwDirectory + "/counted-\(id).csv"))
        let teams = "team,x,date\n" + (0..<1200).map { "Team \($0),\($0),2024-01-02" }.joined(separator: "\n") + "\n"
        try teams.write(toFile: TestEnv.wwwDirectory + "/teams-\(id).csv", atomically: true, encoding: .utf8)
        try scenario.writeConfig(
            """
            {"counted": {"URL": "\(http)/counted-\(id).csv",
                         "PARAMS": {"sep": ";", "comment": "#", "parse_dates": ["d"], "dayfirst": true, "decimal": ",",
                                    "thousands": ".", "encoding_errors": "replace", "on_bad_lines": "skip",
                                    "low_memory": false, "engine": "c", "dtype": {"t": "str"}}},
             "teams": {"URL": "\(http)/teams-\(id).csv", "PARAMS": {"usecols": [0, 2], "parse_dates": [0]}},
             "plain": {"URL": "\(http)/teams-\(id).csv"}}
            """)
        let run = try scenario.run("parallel")
        #expect(run.status == 0, "\(run.error)")
        #expect(scenario.published("counted.csv") == "d,n,t\n2024-02-01,1234.5,x\n,2.5,\u{FFFD}\nlater,3,z\n")
        let log = scenario.log
        let ignored = log.components(separatedBy: "\n").filter { $0.contains("[counted] csv ignored_keys=") }
        #expect(ignored.count == 1, "\(log)")
        #expect(ignored.first?.contains(" WARN [counted] csv ignored_keys=engine,low_memory ") == true)
        #expect(
            log.contains(" INFO [counted] csv dtype=\"{'t': 'str'}\" detail=\"values are always copied as text\""),
            "\(log)")
        #expect(
            log.contains(
                "rows=3 rows_in=4 bad_rows_skipped=1 dates_unparsed=1 values_replaced=1 thousands_decimal_rewritten=2"),
            "\(log)")
        #expect(
            log.contains(
                "WARN [teams] csv detail=\"parse_dates column 'team': "
                    + "none of the first 1000 non-empty values is a date (e.g. 'Team 0')"
            ), "\(log)")
        #expect(log.contains("[teams] published") && log.contains("rows=1200 rows_in=1200"))
        #expect(
            log.contains("summary sources=3 succeeded=3")
                && log.contains(
                    " rows_in=1204 bad_rows_skipped=1 dates_unparsed=1201 values_replaced=1 "
                        + "thousands_decimal_rewritten=2 "
                ), "\(log)")
        let summary = try #require(scenario.summary)
        #expect(summary["rows_in"] as? Int == 1204 && summary["dates_unparsed"] as? Int == 1201)
        let sources = try #require(summary["sources"] as? [[String: Any]])
        let byName = Dictionary(uniqueKeysWithValues: sources.map { ($0["name"] as! String, $0) })
        let csv = try #require(byName["counted"]?["csv"] as? [String: Any])
        #expect(csv["rows_in"] as? Int == 4 && csv["rows_out"] as? Int == 3 && csv["bad_rows_skipped"] as? Int == 1)
        #expect(csv["values_replaced"] as? Int == 1 && csv["thousands_decimal_rewritten"] as? Int == 2)
        #expect(csv["dates_unparsed"] as? [String: Int] == ["d": 1])
        #expect((byName["teams"]?["csv"] as? [String: Any])?["dates_unparsed"] as? [String: Int] == ["team": 1200])
        #expect(byName["plain"]?["csv"] is NSNull)
    }

    @Test("the notes are said once per source however many attempts it takes, and by a dry run too")
    func notesOncePerRun() async throws {
        let scenario = try Scenario("csv-notes")
        let (thread, port) = try await scriptedServer { connection, _ in
            connection == 1
                ? [
                    .send("HTTP/1.1 503 Busy\r\nRetry-After: 0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
                    .close,
                ]
                : [.send("HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: 4\r\n\r\na\n1\n")]
        }
        defer { thread.shutdown() }
        try scenario.writeConfig(
            """
            {"flaky": {"URL": "http://127.0.0.1:\(port)/f.csv", "RETRIES": 2,
                       "PARAMS": {"engine": "c", "memory_map": false, "dtype": "str"}}}
            """)
        let run = try scenario.run("sequential")
        #expect(run.status == 0, "\(run.error)")
        var log = scenario.log
        #expect(log.contains("[flaky] attempt 2/3"))
        #expect(log.components(separatedBy: "[flaky] csv ignored_keys=engine,memory_map ").count - 1 == 1, "\(log)")
        #expect(log.components(separatedBy: "[flaky] csv dtype=str ").count - 1 == 1)
        let dry = try scenario.run("sequential", ["--dry-run"])
        #expect(dry.status == 0, "\(dry.error)")
        log = scenario.log
        #expect(log.components(separatedBy: "[flaky] csv ignored_keys=engine,memory_map ").count - 1 == 2, "\(log)")
    }
}
