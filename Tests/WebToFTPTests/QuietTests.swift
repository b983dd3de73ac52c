import Foundation
@_spi(Internals) import TestSupport
import Testing

@Suite("--quiet: no progress and no INFO on stderr, every WARN and ERROR still there")
struct QuietTests {
    @Test("a failed source and why, and the summary of a failed run, reach stderr; a clean run prints nothing")
    func failuresStillShown() throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
        let scenario = try Scenario("quiet")
        try scenario.writeConfig(
            "{\"good\": {\"URL\": \"\(http)/small.csv\"}, \"missing\": {\"URL\": \"\(http)/nope.csv\"}}")
        let run = try scenario.run("sequential", ["--quiet"])
        #expect(run.status == 1)
        let lines = run.error.split(separator: "\n")
        #expect(
            lines.contains { $0.contains(" ERROR [missing] failed class=permanent") && $0.contains("404 Not Found") },
            "\(run.error)")
        #expect(lines.contains { $0.contains(" WARN summary sources=2 succeeded=1 failed=1 ") }, "\(run.error)")
        #expect(lines.contains { $0.contains(" ERROR [missing] failed_summary reason=") }, "\(run.error)")
        #expect(!lines.contains { $0.contains(" INFO ") }, "\(run.error)")
        #expect(scenario.log.contains(" INFO [good] published "), "the log file still gets every line")

        try scenario.writeConfig("{\"good\": {\"URL\": \"\(http)/small.csv\"}}")
        let clean = try scenario.run("sequential", ["--quiet"])
        #expect(clean.status == 0)
        #expect(clean.error.isEmpty, "\(clean.error)")
    }
}
