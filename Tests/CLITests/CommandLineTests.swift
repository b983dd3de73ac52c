import Foundation
@_spi(Internals) import TestSupport
import Testing

@Suite("web2ftp command line")
struct CommandLineTests {
    @Test("--version prints the version")
    func version() throws {
        let run = try runProduct("web2ftp", ["--version"])
        #expect(run.status == 0)
        #expect(run.output.hasPrefix("web2ftp 0."))
    }

    @Test("--help describes the whole command line: modes, options, environment, exit codes")
    func help() throws {
        let run = try runProduct("web2ftp", ["--help"])
        #expect(run.status == 0)
        for word in [
            "manual", "schedule", "sequential|parallel", "--config", "--workers", "--log", "--only", "--retries",
            "--dry-run", "--summary-json", "--cacert", "--insecure", "--ftp-tls", "--ftp-use-pasv-ip", "FTPHOST",
            "FTPUSER", "FTPPASS", "FTPTARGET", "EXIT CODES", "-v, --verbose", "-vv, -v -v, --trace", "TRACE",
            "conn=N proto=ftp|http dir=>|<", "Content-Type",
        ] {
            #expect(run.output.contains(word), "help does not mention \(word)")
        }
    }

    @Test("a wrong mode is a usage error: exit 2 and a message on stderr")
    func usageError() throws {
        let run = try runProduct("web2ftp", ["sometimes"])
        #expect(run.status == 2)
        #expect(run.error.contains("unknown command 'sometimes'"))
        #expect(run.output.isEmpty)
    }
}

@Suite("Engine resources, counted in a child process")
struct DescriptorLeakTests {
    @Test("loop, timers, TCP, TLS, resolver, HTTP (async early exits too), FTP, threads, signals: no descriptor left")
    func noDescriptorLeaks() throws {
        try TestEnv.require(.nginxHTTPS)
        let run = try runProduct("web2ftp-fdcheck", [])
        #expect(run.status == 0, "\(run.output)\(run.error)")
        #expect(!run.output.contains("FAILED"), "\(run.output)")
        #expect(run.output.contains("scenario signals reach the loop through signalfd ok"))
        #expect(run.output.contains("scenario async http: 5 early exits, then shutdown ok"), "\(run.output)")
        #expect(run.output.contains("scenario digest thread: one for the process, gone with its last digest ok"))
        #expect(
            run.output.range(of: #"fds before=(\d+) after=\1\b"#, options: .regularExpression) != nil, "\(run.output)")
    }

    @Test("the check itself notices a leaked descriptor")
    func leakIsNoticed() throws {
        try TestEnv.require(.nginxHTTPS)
        let run = try runProduct("web2ftp-fdcheck", ["--leak"])
        #expect(run.status == 1)
        #expect(run.output.contains("leaked:"))
    }
}

@Suite("web2ftp get")
struct GetCommandTests {
    @Test("downloads to a file over HTTPS with --cacert; the file appears only when complete")
    func toFile() throws {
        try TestEnv.require(.nginxHTTPS)
        let output = NSTemporaryDirectory() + "w2f-get-\(UInt32.random(in: 0...UInt32.max)).csv"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let run = try runProduct(
            "web2ftp",
            [
                "get", "https://localhost:\(TestEnv.httpsPort)/chunked/large.csv", "-o", output, "--cacert",
                TestEnv.caFile,
            ])
        #expect(run.status == 0, "\(run.error)")
        #expect(
            FileManager.default.contents(atPath: output)
                == FileManager.default.contents(atPath: TestEnv.wwwDirectory + "/large.csv"))
    }

    @Test("a 404 exits 1 with the status on stderr and leaves no file")
    func notFound() throws {
        try TestEnv.require(.nginxHTTP)
        let directory = NSTemporaryDirectory() + "w2f-get-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try runProduct(
            "web2ftp", ["get", "http://127.0.0.1:\(TestEnv.httpPort)/missing.csv", "-o", directory + "/out.csv"])
        #expect(run.status == 1)
        #expect(run.error.contains("HTTP 404 Not Found"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    @Test("get --trace: the request and response heads on stderr, query values and most header values masked")
    func getTrace() throws {
        try TestEnv.require(.nginxHTTP)
        let url = "http://127.0.0.1:\(TestEnv.httpPort)/small.csv?key=hunter2"
        let run = try runProduct("web2ftp", ["get", url, "-o", "/dev/null", "--trace"])
        #expect(run.status == 0, "\(run.error)")
        let lines = run.error.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasSuffix(" > GET /small.csv?key=*** HTTP/1.1") }, "\(run.error)")
        #expect(lines.contains { $0.hasSuffix(" < HTTP/1.1 200 OK") })
        #expect(lines.contains { $0.contains(" < Content-Type: ") && !$0.contains("***") })
        #expect(lines.contains { $0.hasSuffix(" < Server: ***") })
        #expect(!run.error.contains("hunter2"))
        let quiet = try runProduct("web2ftp", ["get", url, "-o", "/dev/null"])
        #expect(!quiet.error.contains(" > GET "))
    }

    @Test("a URL with a password never shows it in messages")
    func noPasswordInErrors() throws {
        let run = try runProduct("web2ftp", ["get", "http://user:hunter2@127.0.0.1:1/x.csv"])
        #expect(run.status == 1)
        #expect(!run.error.contains("hunter2"))
        #expect(run.error.contains("user:***@"))
    }
}
