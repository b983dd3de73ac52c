import Foundation
@_spi(Internals) import TestSupport
import Testing
@_spi(Internals) import WebToFTP

@Suite("--log -: stderr is the log, and no file is written")
struct LogToStderrTests {
    @Test("a real run with --log - writes its lines to stderr and no log file, here or in the working directory")
    func noFile() throws {
        let scenario = try Scenario("log-stderr")
        try scenario.writeConfig("{\"a\": {\"URL\": \"\(http)/small.csv\"}}")
        let cwd = FileManager.default.currentDirectoryPath
        let before = FileManager.default.fileExists(atPath: cwd + "/-")
        let run = try scenario.run("sequential", ["--log", "-"])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.error.contains(" run mode=sequential"), "\(run.error)")
        #expect(run.error.contains(" summary "), "\(run.error)")
        #expect(!FileManager.default.fileExists(atPath: scenario.directory + "/etl_pipeline.log"))
        #expect(!FileManager.default.fileExists(atPath: scenario.directory + "/-"))
        #expect(FileManager.default.fileExists(atPath: cwd + "/-") == before)
        #expect(scenario.published("a.csv") != nil)
    }
}

@Suite("--log-format json: one JSON object per line, numbers by each field's declared type")
struct JSONLogTests {
    @Test("a field is a number only when declared an integer: a digest of digits stays a string; controls escaped")
    func declaredTypes() throws {
        let event = RunEvent(
            time: LocalTime.now(), level: .info, source: nil, name: "published",
            fields: [
                .init("bytes", .integer(42)), .init("sha256", .text("0123456789")),
                .init("line", .text("a\u{1b}[2J\nb\"")),
            ])
        let line = event.jsonLine
        #expect(!line.contains("\n") && !line.contains("\u{1b}"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["source"] is NSNull)
        #expect(object["event"] as? String == "published")
        #expect(object["level"] as? String == "INFO")
        #expect((object["bytes"] as? NSNumber)?.intValue == 42)
        #expect(object["sha256"] as? String == "0123456789")
        #expect(object["line"] as? String == "a\u{1b}[2J\nb\"")
    }

    @Test("every line of a real traced run, in the log file and on stderr, parses as JSON; the password never shows")
    func realRun() throws {
        let scenario = try Scenario("json-log")
        try scenario.writeConfig("{\"a\": {\"URL\": \"\(http)/small.csv\"}, \"b\": {\"URL\": \"\(http)/small.csv\"}}")
        for useVariable in [false, true] {
            let environment = useVariable ? scenario.environment.merging(["WEB2FTP_LOG_FORMAT": "json"]) { $1 } : nil
            let run = try scenario.run(
                "sequential", useVariable ? ["-vv"] : ["-vv", "--log-format", "json"], environment: environment)
            #expect(run.status == 0, "\(run.error)")
            #expect(!run.error.contains(TestEnv.ftpPassword))
            for line in run.error.split(separator: "\n") {
                #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any], "\(line)")
            }
        }
        let log = try String(contentsOfFile: scenario.directory + "/etl_pipeline.log", encoding: .utf8)
        #expect(!log.contains(TestEnv.ftpPassword))
        var events: [[String: Any]] = []
        for line in log.split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object != nil, "\(line)")
            if let object { events.append(object) }
        }
        #expect(events.allSatisfy { $0["time"] is String && $0["level"] is String && $0["event"] is String })
        let published = events.filter { $0["event"] as? String == "published" }
        #expect(published.count == 4)  // two runs, two sources each
        for event in published {
            #expect(event["bytes"] is NSNumber && !(event["bytes"] is String))
            #expect(event["sha256"] is String)
            #expect(event["source"] as? String == "a" || event["source"] as? String == "b")
        }
        #expect(events.contains { $0["event"] as? String == "run" && $0["sources"] is NSNumber })
        #expect(events.contains { $0["event"] as? String == "trace" && $0["conn"] is NSNumber })
        #expect(events.contains { $0["event"] as? String == "summary" && $0["bytes_up"] is NSNumber })
    }
}
