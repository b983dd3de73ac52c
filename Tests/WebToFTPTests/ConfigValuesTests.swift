@_spi(Internals) import TestSupport
import Testing
@_spi(Internals) import WebToFTP

@Suite("Configuration values built in code")
struct ConfigValuesTests {
    private static func problems(_ build: () throws(ConfigError) -> Void) -> [ConfigProblem] {
        do {
            try build()
            return []
        } catch {
            return error.problems
        }
    }

    @Test("SourceConfig checks what the loader checks, every problem listed, worded as the loader words it")
    func sourceConfig() throws {
        let url = try HTTPURL("http://example.com/a.csv")
        let source = try SourceConfig(name: "ok", url: url)
        #expect(source.target == "{name}.csv" && source.csv.isPassthrough && source.retries == nil)
        var csv = CSVOptions()
        csv.quote = UInt8(ascii: ",")
        let problems = Self.problems { () throws(ConfigError) in
            _ = try SourceConfig(
                name: "bad\r\nname", url: url, csv: csv, target: "../up.csv",
                headers: HTTPHeaders([("X-A", "1\r\nX-B: 2")]), retries: 101, idleTimeoutSeconds: 0)
        }
        #expect(
            problems.map(\.description) == [
                "source \"bad??name\": the name has control characters",
                "source \"bad??name\": TARGET \"../up.csv\": must not contain '..'",
                "source \"bad??name\": HEADERS.X-A is not a valid header (name must be a token; no line breaks)",
                "source \"bad??name\": RETRIES must be a whole number from 0 to 100",
                "source \"bad??name\": TIMEOUT must be a number of seconds > 0",
                "source \"bad??name\": sep and quotechar must differ",
            ])
        #expect(problems.allSatisfy { $0.source == "bad\r\nname" })
        #expect(problems.map(\.key) == [nil, "TARGET", "HEADERS", "RETRIES", "TIMEOUT", "PARAMS"])
    }

    @Test("ConfigError: structured problems, the loader's text unchanged, line and column for JSON that does not parse")
    func structured() {
        let problems = Web2FTP.check(configText: #"{"a": {"URL": 3, "TARGET": "/abs"}}"#)
        #expect(
            problems.map(\.description) == [
                "source \"a\": URL must be a string",
                "source \"a\": TARGET \"/abs\": must be relative to FTPTARGET (no leading '/')",
            ])
        #expect(problems.map(\.key) == ["URL", "TARGET"] && problems.allSatisfy { $0.source == "a" })
        #expect(problems.first?.message == "URL must be a string")
        let located = Web2FTP.check(
            configText: "{\n  \"a\": {\n    \"URL\": 3,\n    \"TARGET\": \"/abs\"\n  },\n  \"b\": {}\n}")
        #expect(located.map(\.line) == [3, 4, 6] && located.map(\.column) == [5, 5, 3])
        #expect(located.last?.description == "source \"b\": URL is missing")
        let broken = Web2FTP.check(configText: "{\n  \"a\": {\"URL\": }\n}")
        #expect(broken.count == 1 && broken.first?.line == 2 && broken.first?.column != nil)
        #expect(broken.first?.description.hasPrefix("config.json is not valid JSON: line 2, column") == true)
        #expect(Web2FTP.check(configText: #"{"a": {"URL": "http://h/a.csv"}}"#).isEmpty)
    }

    @Test("FTPEnvironment and RunOptions built in code are checked")
    func environmentAndOptions() throws {
        let ftp = try FTPEnvironment(host: "h", user: "u", password: "p", targetDirectory: "/in")
        #expect(ftp.security == .explicitTLS && ftp.port == nil)
        let bad = Self.problems { () throws(ConfigError) in
            _ = try FTPEnvironment(host: "", port: 70_000, user: "u\n", password: "p", targetDirectory: "/in")
        }
        #expect(
            bad.map(\.description) == [
                "FTPHOST is not set", "FTPHOST: invalid port 70000",
                "FTPUSER must not contain control characters (line breaks, NUL, tabs)",
            ])
        let options = Self.problems { () throws(ConfigError) in
            _ = try RunOptions(workers: 0, retries: -1, ftpTimeoutMS: 0)
        }
        #expect(options.count == 3)
        #expect(try RunOptions(mode: .parallel, workers: 8).workers == 8)
    }

    @Test("the run re-checks the whole set: two sources publishing one path are refused before anything runs")
    func runRechecksTheSet() async throws {
        let url = try HTTPURL("http://127.0.0.1:9/a.csv")
        let sources = [
            try SourceConfig(name: "a", url: url, target: "same.csv"),
            try SourceConfig(name: "b", url: url, target: "same.csv"),
        ]
        let ftp = try FTPEnvironment(host: "127.0.0.1", port: 9, user: "u", password: "p", targetDirectory: "/in")
        do {
            _ = try await Web2FTP.run(sources: sources, ftp: ftp)
            Issue.record("the run started")
        } catch let error as ConfigError {
            #expect(error.messages == ["sources \"a\" and \"b\" would both publish same.csv"])
            #expect(error.problems.first?.source == "b" && error.problems.first?.key == "TARGET")
        }
    }
}
