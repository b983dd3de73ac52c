import Foundation
@_spi(Internals) import Reactor
@_spi(Internals) import TestSupport
import Testing
@_spi(Internals) import WebToFTP

/// A scratch directory with a config, a log, and an FTP target under the FTP user's home.
struct Scenario {
    let directory: String
    let target: String
    let targetName: String

    init(_ label: String) throws {
        let id = "\(label)-\(UInt32.random(in: 0...UInt32.max))"
        directory = NSTemporaryDirectory() + "w2f-e2e-" + id
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        targetName = "e2e-" + id
        target = TestEnv.directory + "/ftp-home/" + targetName
    }

    func writeConfig(_ json: String) throws {
        try json.write(toFile: directory + "/config.json", atomically: true, encoding: .utf8)
    }

    var environment: [String: String] {
        [
            "FTPHOST": "127.0.0.1:\(TestEnv.ftpsPort)", "FTPUSER": TestEnv.ftpUser, "FTPPASS": TestEnv.ftpPassword,
            "FTPTARGET": target, "WEB2FTP_RETRY_BASE_MS": "50",
        ]
    }

    /// Runs `web2ftp manual MODE` on this scenario; `trustTestCA: false` leaves out `--cacert`.
    func run(
        _ mode: String, _ extra: [String] = [], environment: [String: String]? = nil, trustTestCA: Bool = true
    ) throws -> ProductRun {
        try runProduct(
            "web2ftp",
            [
                "manual", mode, "--config", directory + "/config.json", "--log", directory + "/etl_pipeline.log",
                "--summary-json", directory + "/summary.json",
            ] + (trustTestCA ? ["--cacert", TestEnv.caFile] : []) + extra,
            environment: environment ?? self.environment)
    }

    /// Starts `web2ftp ARGUMENTS` on this scenario, logging to `log` in its directory, and returns at once.
    func start(
        _ arguments: [String], log: String = "etl_pipeline.log", environment: [String: String]? = nil
    ) throws -> Process {
        try startProduct(
            "web2ftp",
            arguments + [
                "--config", directory + "/config.json", "--log", directory + "/" + log, "--cacert", TestEnv.caFile,
            ], environment: environment ?? self.environment)
    }

    func published(_ path: String) -> String? {
        FileManager.default.contents(atPath: target + "/" + path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Every file under the target, recursively, dot-files included.
    var files: [String] {
        (FileManager.default.enumerator(atPath: target)?.allObjects as? [String] ?? []).filter {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: target + "/" + $0, isDirectory: &isDirectory)
            return !isDirectory.boolValue
        }.sorted()
    }

    /// What `Web2FTP.run` takes for this scenario: the sources of `config` (a config.json text), the FTP side of its
    /// environment, and options trusting the test CA.
    func libraryRun(_ config: String) throws -> (sources: [SourceConfig], ftp: FTPEnvironment, options: RunOptions) {
        var options = RunOptions()
        options.tls = .client(additionalCAFile: TestEnv.caFile)
        return (try ConfigLoader.load(config, runStart: .now()), try FTPEnvironment.load(environment), options)
    }

    var log: String { (try? String(contentsOfFile: directory + "/etl_pipeline.log", encoding: .utf8)) ?? "" }

    var summary: [String: Any]? {
        guard let data = FileManager.default.contents(atPath: directory + "/summary.json") else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }
}

let http = "http://127.0.0.1:\(TestEnv.httpPort)"

/// A purpose-built HTTP server on an event loop thread of its own; the caller shuts the thread down.
func scriptedServer(
    _ script: @escaping @Sendable (_ connection: Int, _ request: String) -> [ScriptedServer.Step]
) async throws -> (EventLoopThread, Int) {
    let thread = try EventLoopThread()
    let port: Int = try await withCheckedThrowingContinuation { continuation in
        thread.handle.execute { loop in
            do {
                continuation.resume(returning: try ScriptedServer(loop: loop, script: script).port)
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }
    return (thread, port)
}
let https = "https://localhost:\(TestEnv.httpsPort)"

@Suite("web2ftp manual, end to end against nginx and vsftpd")
struct PipelineEndToEndTests {
    init() throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
    }

    static let mixedConfig = """
        {"small": {"URL": "\(http)/small.csv", "PARAMS": {}},
         "small_tls": {"URL": "\(https)/small.csv"},
         "chunked": {"URL": "\(https)/chunked/large.csv", "PARAMS": {}},
         "sales": {"URL": "\(http)/demo/sales-latin1.csv",
                   "PARAMS": {"sep": ";", "encoding": "latin-1", "parse_dates": ["Datum"], "dayfirst": true,
                              "decimal": ",", "thousands": "."}},
         "cols": {"URL": "\(https)/small.csv", "PARAMS": {"usecols": ["name", "id"], "nrows": 2},
                  "TARGET": "sub/dir/{name}.csv"},
         "redirected": {"URL": "\(http)/redirect/chain"},
         "crlf": {"URL": "\(http)/small.csv", "OUTPUT": {"lineterminator": "\\r\\n", "sep": ";"}},
         "renamed": {"URL": "\(http)/small.csv", "PARAMS": {"names": ["a", "b", "c", "d"], "header": 0, "nrows": 1}},
         "dates": {"URL": "\(https)/chunked/small.csv",\
         "PARAMS": {"usecols": ["date"], "parse_dates": ["date"], "date_format": "%Y-%m-%d"}},
         "tail": {"URL": "\(http)/small.csv", "PARAMS": {"skipfooter": 2}, "TARGET": "{name}-{date:%Y}.csv"}}
        """

    @Test(
        "sources of mixed kinds and PARAMS are published with the expected bytes",
        arguments: ["sequential", "parallel"])
    func mixed(mode: String) throws {
        let scenario = try Scenario("mixed-\(mode)")
        try scenario.writeConfig(Self.mixedConfig)
        let run = try scenario.run(mode)
        #expect(run.status == 0, "\(run.error)")
        let small = try String(contentsOfFile: TestEnv.wwwDirectory + "/small.csv", encoding: .utf8)
        let large = try String(contentsOfFile: TestEnv.wwwDirectory + "/large.csv", encoding: .utf8)
        #expect(scenario.published("small.csv") == small)
        #expect(scenario.published("small_tls.csv") == small)
        #expect(scenario.published("redirected.csv") == small)
        #expect(scenario.published("chunked.csv") == large)
        #expect(
            scenario.published("sales.csv") == """
                Kunde,Stadt,Datum,Betrag
                Müller GmbH,Köln,2024-01-31,1234.50
                Bäcker & Söhne,München,2024-02-29,99.90
                Straße; Nr. 5,Zürich,2024-03-01,12000.00

                """)
        #expect(scenario.published("sub/dir/cols.csv") == "id,name\n1,Alice\n2,\"Bob, Jr.\"\n")
        #expect(
            scenario.published("crlf.csv")
                == "id;name;amount;date\r\n1;Alice;10.50;2024-01-31\r\n2;Bob, Jr.;7;2024-02-29\r\n"
                + "3;\"Quote \"\"q\"\"\";0.01;2024-12-01\r\n"
        )
        #expect(scenario.published("renamed.csv") == "a,b,c,d\n1,Alice,10.50,2024-01-31\n")
        #expect(scenario.published("dates.csv") == "date\n2024-01-31\n2024-02-29\n2024-12-01\n")
        let year = Calendar.current.component(.year, from: Date())
        #expect(scenario.published("tail-\(year).csv") == "id,name,amount,date\n1,Alice,10.50,2024-01-31\n")
        #expect(scenario.files.count == 10, "\(scenario.files)")
        let summary = try #require(scenario.summary)
        #expect(summary["succeeded"] as? Int == 10 && summary["failed"] as? Int == 0)
        #expect(scenario.log.contains("[sales] published path=\(scenario.target)/sales.csv"))
        #expect(scenario.log.contains("ftp_data_tls_resumed=true"))
    }

    @Test("a failing source does not disturb the others; exit 1; nothing published for it")
    func partialFailure() throws {
        let scenario = try Scenario("partial")
        try scenario.writeConfig(
            """
            {"good": {"URL": "\(http)/small.csv"},
             "missing": {"URL": "\(http)/nope.csv"},
             "html": {"URL": "\(http)/index.html"},
             "badcsv": {"URL": "\(http)/small.csv", "PARAMS": {"usecols": ["zzz"]}},
             "good2": {"URL": "\(https)/small.csv"}}
            """)
        try "<html>error page</html>".write(
            toFile: TestEnv.wwwDirectory + "/index.html", atomically: true, encoding: .utf8)
        let run = try scenario.run("parallel")
        #expect(run.status == 1)
        #expect(scenario.files == ["good.csv", "good2.csv"])
        let log = scenario.log
        #expect(log.contains("[missing] failed class=permanent attempts=1"))
        #expect(log.contains("HTTP 404 Not Found"))
        #expect(log.contains("[html] failed class=permanent") && log.contains("text/html: not CSV"))
        #expect(log.contains("[badcsv] failed class=permanent") && log.contains("no column named 'zzz'"))
        let summary = try #require(scenario.summary)
        #expect(summary["succeeded"] as? Int == 2 && summary["failed"] as? Int == 3)
    }

    @Test("a transient failure is retried with back-off and then succeeds; the attempts are in the log")
    func retries() async throws {
        let scenario = try Scenario("retries")
        let (thread, port) = try await scriptedServer { connection, _ in
            connection <= 2
                ? [
                    .send("HTTP/1.1 503 Busy\r\nRetry-After: 0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
                    .close,
                ]
                : [.send("HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: 4\r\n\r\na\n1\n")]
        }
        defer { thread.shutdown() }
        try scenario.writeConfig("{\"flaky\": {\"URL\": \"http://127.0.0.1:\(port)/f.csv\", \"RETRIES\": 3}}")
        let run = try scenario.run("sequential")
        #expect(run.status == 0, "\(run.error)")
        #expect(scenario.published("flaky.csv") == "a\n1\n")
        let log = scenario.log
        #expect(log.components(separatedBy: "[flaky] retry").count - 1 == 2)
        #expect(log.contains("[flaky] attempt 3/4"))
        #expect(log.contains("HTTP 503 Busy"))
    }

    @Test("a source's TIMEOUT bounds the silence of its server")
    func sourceTimeout() async throws {
        let scenario = try Scenario("timeout")
        let (thread, port) = try await scriptedServer { _, _ in
            [.send("HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: 100\r\n\r\na\n"), .hang]
        }
        defer { thread.shutdown() }
        try scenario.writeConfig(
            "{\"stall\": {\"URL\": \"http://127.0.0.1:\(port)/s.csv\", \"TIMEOUT\": 0.3, \"RETRIES\": 0}}")
        let run = try scenario.run("sequential")
        #expect(run.status == 1)
        #expect(scenario.log.contains("no data arrived for 300 ms"), "\(scenario.log)")
        #expect(scenario.files.isEmpty)
    }

    @Test("old leftovers in the target are cleaned up at the start; a fresh one of a running peer is left alone")
    func leftovers() throws {
        let scenario = try Scenario("leftovers")
        try FileManager.default.createDirectory(atPath: scenario.target, withIntermediateDirectories: true)
        let owner = try FileManager.default.attributesOfItem(atPath: TestEnv.directory + "/ftp-home")[.ownerAccountID]
        try FileManager.default.setAttributes([.ownerAccountID: owner as Any], ofItemAtPath: scenario.target)
        let now = Int(Date().timeIntervalSince1970)
        let stale = ".a.csv.web2ftp-part.otherhost.77.\(now - 3 * 86_400)"
        let fresh = ".a.csv.web2ftp-part.otherhost.78.\(now - 60)"
        for name in [stale, fresh] {
            #expect(FileManager.default.createFile(atPath: scenario.target + "/" + name, contents: Data("x".utf8)))
        }
        try scenario.writeConfig("{\"a\": {\"URL\": \"\(http)/small.csv\"}}")
        let run = try scenario.run("sequential")
        #expect(run.status == 0, "\(run.error)")
        #expect(scenario.files == [fresh, "a.csv"])
        #expect(scenario.log.contains("leftovers directory=\(scenario.target) deleted=1 restored=0"))
    }

    @Test("a second run of the same config while one runs exits 3; the lock goes with the first")
    func lock() async throws {
        let scenario = try Scenario("lock")
        // Six seconds of body: room enough for the second run to start while the first holds the lock,
        // even when the test process itself is slowed by the rest of the suite.
        let drip = (0..<60).flatMap { _ in [ScriptedServer.Step.send("1\n"), .pause(milliseconds: 100)] }
        let (thread, port) = try await scriptedServer { _, _ in
            [.send("HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: 122\r\n\r\na\n")] + drip
        }
        defer { thread.shutdown() }
        try scenario.writeConfig("{\"slow\": {\"URL\": \"http://127.0.0.1:\(port)/s.csv\"}}")
        let first = try scenario.start(["manual", "sequential"], log: "first.log")
        // The first run logs `run` once it holds the lock. A blocking wait: an await here can resume only after
        // other tests' blocking child processes free the cooperative pool, by when the first run may be over.
        for _ in 0..<250 {
            let log = (try? String(contentsOfFile: scenario.directory + "/first.log", encoding: .utf8)) ?? ""
            if log.contains(" run mode=") { break }
            usleep(20_000)
        }
        let second = try scenario.run("sequential")
        #expect(second.status == 3, "\(second.error)")
        #expect(second.error.contains("another run of"))
        // A refused contender leaves the holder's note alone: the next one still names the holder.
        let third = try scenario.run("sequential")
        #expect(third.status == 3, "\(third.error)")
        #expect(third.error.contains("(pid \(first.processIdentifier) config "), "\(third.error)")
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
        #expect(try scenario.run("sequential").status == 0, "the lock must be gone with the first run")
    }

    @Test(
        "--dry-run checks the FTP login and every source, transfers nothing; 0 when all pass, 4 on a refused login, 1 otherwise"
    )
    func dryRun() throws {
        let scenario = try Scenario("dryrun")
        try scenario.writeConfig(
            "{\"a\": {\"URL\": \"\(http)/small.csv\"}, \"b\": {\"URL\": \"\(https)/chunked/large.csv\"}}")
        let good = try scenario.run("parallel", ["--dry-run"])
        #expect(good.status == 0, "\(good.error)")
        #expect(scenario.files.isEmpty)
        #expect(
            scenario.log.contains("[a] checked http_status=206") || scenario.log.contains("[a] checked http_status=200")
        )
        try scenario.writeConfig("{\"a\": {\"URL\": \"\(http)/small.csv\"}, \"gone\": {\"URL\": \"\(http)/gone.csv\"}}")
        let bad = try scenario.run("sequential", ["--dry-run"])
        #expect(bad.status == 1)
        #expect(scenario.log.contains("[gone] failed class=permanent reason=\"\(http)/gone.csv: HTTP 404 Not Found\""))
        var wrong = scenario.environment
        wrong["FTPPASS"] = "wrong-password"
        try scenario.writeConfig("{\"a\": {\"URL\": \"\(http)/small.csv\"}}")
        let login = try scenario.run("sequential", ["--dry-run"], environment: wrong)
        #expect(login.status == 4)
        #expect(scenario.log.contains("[a] failed class=destination reason="), "\(scenario.log)")
        #expect(scenario.files.isEmpty)
    }

    @Test("config and environment problems: exit 2, every problem listed, nothing runs")
    func configErrors() throws {
        let scenario = try Scenario("config")
        try scenario.writeConfig(
            "{\"a\": {\"URL\": \"ftp://x/y\"}, \"b\": {\"URL\": \"\(http)/small.csv\", \"BAD\": 1}}")
        let run = try scenario.run("sequential", environment: ["FTPHOST": "127.0.0.1"])
        #expect(run.status == 2)
        for expected in [
            "unsupported scheme 'ftp'", "unknown key \"BAD\"", "FTPUSER is not set", "FTPPASS is not set",
            "FTPTARGET is not set",
        ] {
            #expect(run.error.contains(expected), "missing \(expected) in \(run.error)")
        }
        #expect(scenario.files.isEmpty)
        let unknownOnly = try scenario.run("sequential", ["--only", "nope"])
        #expect(unknownOnly.status == 2)
        #expect(try scenario.run("sometimes").status == 2)
    }

    @Test("the password never appears in the log, stderr or the summary; URL secrets are redacted")
    func secrets() throws {
        let scenario = try Scenario("secrets")
        try scenario.writeConfig(
            """
            {"s": {"URL": "\(http)/small.csv?token=abc123secret", "HEADERS": {"X-Api-Key": "header-secret"}},
             "bad": {"URL": "http://user:url-secret@127.0.0.1:1/x.csv", "RETRIES": 0}}
            """)
        let run = try scenario.run("sequential")
        #expect(run.status == 1)
        let everything =
            scenario.log + run.error + run.output
            + String(
                decoding: FileManager.default.contents(atPath: scenario.directory + "/summary.json") ?? Data(),
                as: UTF8.self)
        for secret in [TestEnv.ftpPassword, "abc123secret", "header-secret", "url-secret"] {
            #expect(!everything.contains(secret), "\(secret) leaked")
        }
        #expect(everything.contains("token=***"))
    }

    /// A source that sends its head and a little of the body, then dribbles for half a minute.
    static func dribblingSource() async throws -> (EventLoopThread, Int) {
        let drip = (0..<600).flatMap { _ in [ScriptedServer.Step.send("x,y\n"), .pause(milliseconds: 50)] }
        return try await scriptedServer { _, _ in
            [.send("HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: 100000\r\n\r\na,b\n")] + drip
        }
    }

    /// Starts `web2ftp manual sequential` on the scenario, waits (blocking, as the lock test does) until `ready`,
    /// sends SIGTERM and waits for the exit. Returns the exit status, or nil when `ready` never came.
    static func interrupt(_ scenario: Scenario, environment: [String: String], when ready: () -> Bool) throws -> Int32?
    {
        let process = try scenario.start(["manual", "sequential"], environment: environment)
        var sawReady = false
        for _ in 0..<250 {
            if ready() {
                sawReady = true
                break
            }
            usleep(20_000)
        }
        process.terminate()  // SIGTERM
        process.waitUntilExit()
        return sawReady ? process.terminationStatus : nil
    }

    @Test("SIGTERM mid-transfer: exit 143, no file under the final name, the temporary file removed")
    func sigterm() async throws {
        let scenario = try Scenario("sigterm")
        let (thread, port) = try await Self.dribblingSource()
        defer { thread.shutdown() }
        try scenario.writeConfig("{\"slow\": {\"URL\": \"http://127.0.0.1:\(port)/slow.csv\"}}")
        // Once the temporary file exists on the server, the upload is under way.
        let status = try Self.interrupt(scenario, environment: scenario.environment) {
            scenario.files.contains { $0.contains(".web2ftp-part.") }
        }
        #expect(status == 143, "exit status (nil: the upload never started)")
        #expect(scenario.files.isEmpty, "left behind: \(scenario.files)")
        #expect(scenario.log.contains("interrupted signal=SIGTERM"))
    }

    @Test(
        """
        SIGTERM, and the FTP server drops the session as the upload stops: \
        the temporary file is deleted over a new one
        """
    )
    func sigtermSessionLost() async throws {
        let scenario = try Scenario("sigterm-lost")
        let (thread, port) = try await Self.dribblingSource()
        defer { thread.shutdown() }
        // vsftpd ends the whole session when a data connection closes before its TLS handshake is done: this server
        // does that to every upload, so the attempt's own clean-up can never run.
        let ftp = try await thread.onLoop { loop in
            LoopBound(try ScriptedFTPServer(loop: loop) { $0.hasPrefix("STOR") ? [.storeThenDrop] : nil })
        }
        let ftpPort = try await thread.onLoop { _ in ftp.object.port }
        try scenario.writeConfig("{\"slow\": {\"URL\": \"http://127.0.0.1:\(port)/slow.csv\"}}")
        var environment = scenario.environment
        environment["FTPHOST"] = "127.0.0.1:\(ftpPort)"
        environment["FTPTLS"] = "none"
        environment["FTPTARGET"] = "/out"
        let commands = { thread.onLoopBlocking { _ in ftp.object.commands } }
        let status = try Self.interrupt(scenario, environment: environment) {
            commands().contains { $0.hasPrefix("STOR") }
        }
        #expect(status == 143, "exit status (nil: the upload never started)")
        let files = try await thread.onLoop { _ in ftp.object.files }
        #expect(files.isEmpty, "left behind: \(files.keys.sorted())")
        #expect(scenario.log.contains("cleanup temporary_files_deleted=1"), "\(scenario.log)")
        #expect(try await thread.onLoop { _ in ftp.object.sessionsOpened } >= 2)
    }
}

@Suite("The library entry point")
struct LibraryRunTests {
    @Test("Web2FTP.run publishes and returns the summary")
    func run() async throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
        let scenario = try Scenario("library")
        let (sources, ftp, options) = try scenario.libraryRun(
            "{\"lib\": {\"URL\": \"\(http)/small.csv\", \"PARAMS\": {\"usecols\": [\"id\"]}}}")
        let summary = try await Web2FTP.run(
            sources: sources, ftp: ftp, options: options, logPath: scenario.directory + "/lib.log")
        #expect(summary.succeeded.count == 1 && summary.failed.isEmpty)
        #expect(summary.rows == 3)
        #expect(scenario.published("lib.csv") == "id\n1\n2\n3\n")
    }

    @Test("a source's compression, outputCompression and maxBytes set in code take effect")
    func compressionSetInCode() async throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
        let scenario = try Scenario("libgz")
        var (sources, ftp, options) = try scenario.libraryRun(
            """
            {"raw": {"URL": "\(http)/small.csv.gz", "TARGET": "raw.bin"}, "zipped": {"URL": "\(http)/small.csv"},
             "capped": {"URL": "\(http)/small.csv"}}
            """)
        func set(_ name: String, _ change: (inout SourceConfig) -> Void) {
            if let index = sources.firstIndex(where: { $0.name == name }) { change(&sources[index]) }
        }
        set("raw") { $0.compression = .none }
        set("zipped") { $0.outputCompression = .method(.gzip) }
        set("capped") { $0.maxBytes = 10 }
        let summary = try await Web2FTP.run(
            sources: sources, ftp: ftp, options: options, logPath: scenario.directory + "/lib.log")
        #expect(summary.succeeded.count == 2 && summary.failed.map(\.name) == ["capped"])
        let gz = FileManager.default.contents(atPath: TestEnv.wwwDirectory + "/small.csv.gz")
        #expect(FileManager.default.contents(atPath: scenario.target + "/raw.bin") == gz, "the gzip bytes as they came")
        let zipped = FileManager.default.contents(atPath: scenario.target + "/zipped.csv").map { Array($0) } ?? []
        #expect(zipped.starts(with: [0x1f, 0x8b]), "gzipped on the way out")
        #expect(scenario.published("capped.csv") == nil)
    }

    @Test("Web2FTP.run on a full log device publishes, tells the observer once (log_write_failed), traces when asked")
    func fullLogAndTrace() async throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
        let scenario = try Scenario("libfull")
        let (sources, ftp, options) = try scenario.libraryRun(
            "{\"a\": {\"URL\": \"\(http)/small.csv\"}, \"b\": {\"URL\": \"\(http)/small.csv\"}}")
        let failures = LockedValue<[RunEvent]>([])
        let summary = try await Web2FTP.run(
            sources: sources, ftp: ftp, options: options, logPath: "/dev/full", trace: true,
            observer: { event in if event.name == "log_write_failed" { failures.withLock { $0.append(event) } } })
        #expect(summary.succeeded.count == 2 && summary.failed.isEmpty)
        let heard = failures.withLock { $0 }
        #expect(heard.count == 1)
        #expect(heard.first?["path"] == .text("/dev/full") && heard.first?["errno"] == .integer(Int64(ENOSPC)))

        let traced = try Scenario("libtrace")
        _ = try await Web2FTP.run(
            sources: sources, ftp: try FTPEnvironment.load(traced.environment), options: options,
            logPath: traced.directory + "/lib.log", trace: true)
        let log = (try? String(contentsOfFile: traced.directory + "/lib.log", encoding: .utf8)) ?? ""
        #expect(log.contains(" TRACE trace conn=") && log.contains(" proto=ftp dir=> line=\"PASS ***\""))
        #expect(log.contains(" proto=http dir=> line=\"GET /small.csv HTTP/1.1\""))
    }
}

@Suite("The published SHA-256 is the file's, inline or on the digest thread")
struct PublishedDigestTests {
    /// sha256sum's digest of `path`: an implementation other than ours.
    static func sha256sum(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: data, as: UTF8.self).prefix(64))
    }

    @Test("6 MiB passthrough and transformed, over FTPS and plain FTP", arguments: [true, false])
    func digests(ftps: Bool) throws {
        try TestEnv.require(.nginxHTTP, .nginxHTTPS, ftps ? .vsftpd : .vsftpdPlain)
        let scenario = try Scenario("digest-\(ftps ? "ftps" : "plain")")
        let name = "digest-\(UInt32.random(in: 0...UInt32.max)).csv"
        let source = TestEnv.wwwDirectory + "/" + name
        var rows = "id,value,label\n"
        var index = 0
        while rows.utf8.count < 6 << 20 {
            index += 1
            rows += "\(index),\(index * 7919 % 100_003),row-\(index)\n"
        }
        try rows.write(toFile: source, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: source) }
        try scenario.writeConfig(
            """
            {"passthrough": {"URL": "\(http)/\(name)"},
             "transformed": {"URL": "\(https)/\(name)", "OUTPUT": {"sep": ";"}}}
            """)
        var environment = scenario.environment
        if !ftps {
            environment["FTPHOST"] = "127.0.0.1:\(TestEnv.ftpPort)"
            environment["FTPTLS"] = "none"
        }
        let run = try scenario.run("parallel", environment: environment)
        #expect(run.status == 0, "\(run.error)")
        let sources = try #require(scenario.summary?["sources"] as? [[String: Any]])
        let digests = Dictionary(uniqueKeysWithValues: sources.map { ($0["name"] as! String, $0["sha256"] as? String) })
        let expected = try Self.sha256sum(source)
        #expect(try Self.sha256sum(scenario.target + "/passthrough.csv") == expected)
        #expect(digests["passthrough"] == expected)
        let transformed = try Self.sha256sum(scenario.target + "/transformed.csv")
        #expect(transformed != expected)
        #expect(digests["transformed"] == transformed)
    }
}

@Suite("FTP directories: created once per session")
struct DirectoryOnceTests {
    @Test("three sources into one directory through one session: MKD for each level once, not once per source")
    func mkdOnce() throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
        let scenario = try Scenario("mkd-once")
        try scenario.writeConfig(
            """
            {"a": {"URL": "\(http)/small.csv"}, "b": {"URL": "\(http)/small.csv"}, "c": {"URL": "\(http)/small.csv"}}
            """)
        let run = try scenario.run("sequential", ["--trace", "--force"])
        #expect(run.status == 0, "\(run.error)")
        #expect(scenario.files == ["a.csv", "b.csv", "c.csv"])
        let mkd = scenario.log.split(separator: "\n").filter { $0.contains("line=\"MKD ") }
        let levels = FTPPublishPlan.levels(of: scenario.target).count
        #expect(mkd.count == levels, "\(mkd.joined(separator: "\n"))")
        #expect(mkd.last?.hasSuffix("MKD \(scenario.target)\"") == true)
    }

    @Test("the directory removed between two sources: the STOR refused after skipped MKDs is retried, with them")
    func directoryRemovedMidRun() async throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
        let scenario = try Scenario("mkd-gone")
        // b's body comes 1.5 s late the first time: long enough to remove the directory after a was published.
        let (thread, port) = try await scriptedServer { connection, _ in
            (connection == 1 ? [.pause(milliseconds: 1_500)] : [])
                + [.send("HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: 4\r\n\r\na\n1\n")]
        }
        defer { thread.shutdown() }
        try scenario.writeConfig(
            """
            {"a": {"URL": "\(http)/small.csv"}, "b": {"URL": "http://127.0.0.1:\(port)/b.csv", "RETRIES": 1}}
            """)
        let process = try scenario.start(["manual", "sequential", "--force"])
        for _ in 0..<3_000 where !scenario.log.contains("[a] published") { usleep(10_000) }
        try FileManager.default.removeItem(atPath: scenario.target)
        process.waitUntilExit()
        let log = scenario.log
        #expect(process.terminationStatus == 0, "\(log)")
        #expect(log.contains("the directory may be gone"), "\(log)")
        #expect(scenario.files == ["b.csv"], "\(log)")
    }
}
