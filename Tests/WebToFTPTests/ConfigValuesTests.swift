@_spi(Internals) import Compression
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

extension ConfigValuesTests {
    @Test(
        "compression, outputCompression and maxBytes set in code are checked when the run starts, as the loader would")
    func compressionSetInCode() async throws {
        var source = try SourceConfig(name: "s", url: try HTTPURL("http://127.0.0.1:9/s.csv"))
        source.maxBytes = 0
        source.outputCompression = .method(.zip(member: nil))
        let ftp = try FTPEnvironment(host: "127.0.0.1", port: 9, user: "u", password: "p", targetDirectory: "/in")
        do {
            _ = try await Web2FTP.run(sources: [source], ftp: ftp)
            Issue.record("the run started")
        } catch let error as ConfigError {
            #expect(error.problems.map { "\($0.source ?? "") \($0.key ?? "")" } == ["s MAX_BYTES", "s OUTPUT"])
        }
        // The default, .infer, is checked by init already: a .bz2 URL is refused there.
        #expect(throws: ConfigError.self) {
            try SourceConfig(name: "t", url: try HTTPURL("http://127.0.0.1:9/t.csv.bz2"))
        }
    }
}

@Suite("config: PARAMS and OUTPUT compression, MAX_BYTES (issue #18)")
struct CompressionConfigTests {
    func problems(_ source: String) -> [String] {
        do {
            _ = try ConfigLoader.load("{\"s\": {\(source)}}", runStart: .now())
            return []
        } catch {
            return error.messages
        }
    }

    @Test("accepted forms: infer, gzip, zip with a name, null, none; OUTPUT gzip; MAX_BYTES")
    func accepted() throws {
        for source in [
            #""URL": "http://h/x.csv.gz""#, #""URL": "http://h/x", "PARAMS": {"compression": "gzip"}"#,
            #""URL": "http://h/x", "PARAMS": {"compression": {"method": "gzip"}}"#,
            #""URL": "http://h/x.zip", "PARAMS": {"compression": {"method": "zip", "name": "a.csv"}}"#,
            #""URL": "http://h/x.csv.bz2", "PARAMS": {"compression": null}"#,
            #""URL": "http://h/x.csv.xz", "PARAMS": {"compression": "none"}"#,
            #""URL": "http://h/x", "OUTPUT": {"compression": "gzip"}, "MAX_BYTES": 1000"#,
            #""URL": "http://h/x", "TARGET": "{name}.csv.gz""#,
            #""URL": "http://h/x", "TARGET": "{name}.zip", "OUTPUT": {"compression": null}"#,
        ] {
            #expect(problems(source) == [], "\(source)")
        }
        let sources = try ConfigLoader.load(
            #"{"s": {"URL": "http://h/x", "PARAMS": {"compression": "zip", "sep": ";"}, "OUTPUT": {"compression": "gzip"}, "MAX_BYTES": 5}}"#,
            runStart: .now())
        #expect(sources[0].compression == .method(.zip(member: nil)) && sources[0].outputCompression == .method(.gzip))
        #expect(sources[0].maxBytes == 5 && !sources[0].csv.isPassthrough)
        let only = try ConfigLoader.load(
            #"{"s": {"URL": "http://h/x.gz", "PARAMS": {"compression": "gzip"}, "OUTPUT": {"compression": "gzip"}}}"#,
            runStart: .now())
        #expect(only[0].csv.isPassthrough, "compression alone is no CSV transform")
    }

    @Test("what we do not decode is refused by name, with what is supported")
    func refused() {
        let cases: [(String, String)] = [
            (#""URL": "http://h/x.csv.bz2""#, "not supported (supported: gzip, zip)"),
            (#""URL": "http://h/x.tar.gz""#, "not supported (supported: gzip, zip)"),
            (#""URL": "http://h/x", "PARAMS": {"compression": "xz"}"#, "not supported (supported: gzip, zip)"),
            (#""URL": "http://h/x", "PARAMS": {"compression": {"method": "zstd"}}"#, "not supported"),
            (#""URL": "http://h/x", "PARAMS": {"compression": "brotli"}"#, "unknown"),
            (#""URL": "http://h/x", "PARAMS": {"compression": {"method": "gzip", "name": "a"}}"#, "unknown key"),
            (#""URL": "http://h/x", "OUTPUT": {"compression": "zip"}"#, "not supported (supported: gzip)"),
            (#""URL": "http://h/x", "TARGET": "{name}.zip""#, "not supported (supported: gzip)"),
            (#""URL": "http://h/x", "MAX_BYTES": 0"#, "MAX_BYTES must be"),
            (#""URL": "http://h/x", "MAX_BYTES": "1G""#, "MAX_BYTES must be"),
        ]
        for (source, words) in cases {
            let found = problems(source)
            #expect(found.count == 1 && found[0].contains(words), "\(source): \(found)")
        }
    }
}
