import Foundation
@_spi(Internals) import TestSupport
import Testing

@Suite("--trace end to end: the protocol lines of a real run, masked")
struct TraceEndToEndTests {
    /// The `trace` events of a log, as (conn, proto, dir, line).
    private func traceEvents(_ text: String) -> [(conn: String, proto: String, dir: String, line: String)] {
        text.split(separator: "\n").filter { $0.contains(" TRACE trace ") }.compactMap { event in
            func field(_ key: String) -> String? {
                guard let start = event.range(of: " \(key)=") else { return nil }
                let rest = event[start.upperBound...]
                if rest.hasPrefix("\"") { return String(rest.dropFirst().prefix { $0 != "\"" }) }
                return String(rest.prefix { $0 != " " })
            }
            guard let conn = field("conn"), let proto = field("proto"), let dir = field("dir") else { return nil }
            return (conn, proto, dir, field("line") ?? "")
        }
    }

    @Test("-vv: every FTP command and reply and every HTTP head, numbered by connection, with no secret")
    func traceOfARun() throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
        let scenario = try Scenario("trace")
        let secretQuery = "s3cr3t-token-value"
        try scenario.writeConfig(
            "{\"a\": {\"URL\": \"\(http)/small.csv?token=\(secretQuery)\"}, \"b\": {\"URL\": \"\(http)/small.csv\"}}")
        let run = try scenario.run("parallel", ["-vv"])
        #expect(run.status == 0, "\(run.error)")
        #expect(scenario.files == ["a.csv", "b.csv"])
        let events = traceEvents(scenario.log)
        let ftp = events.filter { $0.proto == "ftp" }
        let http = events.filter { $0.proto == "http" }
        #expect(ftp.contains { $0.dir == ">" && $0.line == "PASS ***" })
        #expect(ftp.contains { $0.dir == ">" && $0.line.hasPrefix("STOR ") })
        #expect(ftp.contains { $0.dir == "<" && $0.line.hasPrefix("226 ") })
        #expect(http.contains { $0.dir == ">" && $0.line == "GET /small.csv?token=*** HTTP/1.1" })
        #expect(http.contains { $0.dir == "<" && $0.line.hasPrefix("HTTP/1.1 200") })
        #expect(http.contains { $0.dir == "<" && $0.line.hasPrefix("Content-Length: ") && !$0.line.contains("***") })
        #expect(http.contains { $0.dir == "<" && $0.line == "Server: ***" })
        // FTP and HTTP connections never share a number.
        #expect(Set(ftp.map(\.conn)).isDisjoint(with: Set(http.map(\.conn))))
        for text in [scenario.log, run.error] {
            #expect(!text.contains(TestEnv.ftpPassword))
            #expect(!text.contains(secretQuery))
        }
        #expect(run.error.contains(" TRACE trace "), "the trace reaches stderr too")
    }

    @Test("without -vv no TRACE line is written, in the log or on stderr")
    func noTraceByDefault() throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
        let scenario = try Scenario("notrace")
        try scenario.writeConfig("{\"a\": {\"URL\": \"\(http)/small.csv\"}}")
        let run = try scenario.run("sequential", ["-v"])
        #expect(run.status == 0, "\(run.error)")
        #expect(!scenario.log.contains(" TRACE "))
        #expect(!run.error.contains(" TRACE "))
        #expect(run.error.contains(" attempt 1/"), "-v shows attempts")
    }
}
