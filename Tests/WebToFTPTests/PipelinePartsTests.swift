import Foundation
@_spi(Internals) import Reactor
import Testing

@_spi(Internals) @testable import WebToFTP

@Suite("The pipeline's parts, without a network")
struct PipelinePartsTests {
    struct RetryCase: CustomTestStringConvertible, Sendable {
        let label: String
        var retries = 2
        var baseMS = 1_000
        var capMS = 60_000
        let attempt: Int
        var transient = true
        var retryAfter: Int64?
        /// The jitter's choice: its lowest (0) or highest (its argument).
        var highJitter = false
        let expected: RetryPolicy.Decision
        var testDescription: String { label }
    }

    static let retryCases: [RetryCase] = [
        RetryCase(label: "first retry, low jitter: half the base", attempt: 1, expected: .retry(afterMS: 500)),
        RetryCase(
            label: "first retry, high jitter: the base", attempt: 1, highJitter: true, expected: .retry(afterMS: 1_000)),
        RetryCase(label: "second retry doubles", attempt: 2, expected: .retry(afterMS: 1_000)),
        RetryCase(label: "second retry, high jitter", attempt: 2, highJitter: true, expected: .retry(afterMS: 2_000)),
        RetryCase(label: "the last attempt gives up", attempt: 3, expected: .giveUp),
        RetryCase(label: "beyond the last attempt gives up", attempt: 4, expected: .giveUp),
        RetryCase(label: "a permanent failure gives up at once", attempt: 1, transient: false, expected: .giveUp),
        RetryCase(label: "no retries: the first failure ends it", retries: 0, attempt: 1, expected: .giveUp),
        RetryCase(
            label: "Retry-After longer than the back-off wins", attempt: 1, retryAfter: 5,
            expected: .retry(afterMS: 5_000)),
        RetryCase(
            label: "Retry-After shorter than the back-off loses", attempt: 2, retryAfter: 0, highJitter: true,
            expected: .retry(afterMS: 2_000)),
        RetryCase(label: "Retry-After is capped", attempt: 1, retryAfter: 120, expected: .retry(afterMS: 60_000)),
        RetryCase(
            label: "a huge Retry-After does not overflow", attempt: 1, retryAfter: .max,
            expected: .retry(afterMS: 60_000)),
        RetryCase(
            label: "the exponent stops growing; the cap holds", retries: 100, attempt: 40,
            expected: .retry(afterMS: 30_000)),
        RetryCase(
            label: "capped back-off, high jitter", retries: 100, attempt: 7, highJitter: true,
            expected: .retry(afterMS: 60_000)),
        RetryCase(
            label: "a zero base retries at once", baseMS: 0, attempt: 2, highJitter: true, expected: .retry(afterMS: 0)),
        RetryCase(label: "a small cap", retries: 5, capMS: 1_500, attempt: 3, expected: .retry(afterMS: 750)),
    ]

    @Test("retry policy: retry or give up, and the delay", arguments: retryCases)
    func retryPolicy(_ row: RetryCase) {
        let policy = RetryPolicy(
            retries: row.retries, baseMS: row.baseMS, capMS: row.capMS, jitter: { row.highJitter ? $0 : 0 })
        let failure = TransferFailure(reason: "x", transient: row.transient, retryAfter: row.retryAfter)
        #expect(policy.decide(after: row.attempt, failure) == row.expected)
    }

    @Test("retry policy: a source's RETRIES wins over the run's; the jitter stays within its upper half")
    func retryPolicyFromConfig() throws {
        let sources = try ConfigLoader.load(
            #"{"a": {"URL": "http://h/a.csv", "RETRIES": 5}, "b": {"URL": "http://h/b.csv"}}"#, runStart: runStart)
        var options = RunOptions()
        options.retries = 1
        #expect(RetryPolicy(options: options, source: sources[0]).attempts == 6)
        #expect(RetryPolicy(options: options, source: sources[1]).attempts == 2)
        let random = RetryPolicy(options: RunOptions(), source: sources[1])
        for _ in 0..<200 { #expect((2_000...4_000).contains(random.delay(after: 3, retryAfter: nil))) }
    }

    @Test("--only: the named sources run, the others are named as skipped, an unknown name is refused")
    func only() throws {
        let sources = try ConfigLoader.load(
            #"{"a": {"URL": "http://h/a.csv"}, "b": {"URL": "http://h/b.csv"}, "c": {"URL": "http://h/c.csv"}}"#,
            runStart: runStart)
        let all = try Pipeline.select(sources, only: [])
        #expect(all.run.map(\.name) == ["a", "b", "c"] && all.skipped.isEmpty)
        let some = try Pipeline.select(sources, only: ["c", "a"])
        #expect(some.run.map(\.name) == ["a", "c"])
        #expect(some.skipped == ["b"])
        #expect(throws: ConfigError.self) { try Pipeline.select(sources, only: ["a", "zz"]) }
        do {
            _ = try Pipeline.select(sources, only: ["zz", "a", "yy"])
        } catch {
            #expect(error.messages == [#"--only: no source named "yy", "zz""#])
        }
    }

    @Test("target paths: FTPTARGET, the template's directories, the file name")
    func targetPath() {
        let plain = TargetPath(template: "{name}.csv", source: "s", under: "/in", at: runStart)
        #expect(plain.directory == "/in" && plain.name == "s.csv" && plain.full == "/in/s.csv")
        let nested = TargetPath(template: "a/b/{name}-{date:%Y%m%d}.csv", source: "s", under: "/in/", at: runStart)
        #expect(nested.directory == "/in/a/b" && nested.full == "/in/a/b/s-20261126.csv")
        let relative = TargetPath(template: "sub//{name}.csv", source: "s", under: "", at: runStart)
        #expect(relative.directory == "sub" && relative.full == "sub/s.csv")
    }

    static func traceLog(_ configure: (RunLog) -> Void) throws -> (RunLog, String) {
        let path = "/tmp/w2f-trace-\(UInt32.random(in: 0...UInt32.max)).log"
        let log = try RunLog(path: path, secrets: ["s3cret"])
        log.echoToStderr = false
        configure(log)
        return (log, path)
    }

    @Test("trace sinks log TRACE trace events: conn, proto, dir, the line (quoted, masked)")
    func traceLines() throws {
        let loop = try EventLoop()
        let (log, path) = try Self.traceLog { $0.trace = true }
        defer { unlink(path) }
        let ftp = try #require(log.traceSink(protocol: "ftp", loop: loop))
        let http = try #require(log.traceSink(protocol: "http", loop: loop))
        ftp.record(connection: 7, .sent, "USER bob")
        ftp.record(connection: 7, .received, "230 Login successful.")
        ftp.record(connection: 8, .sent, "PWD")
        http.record(connection: 9, .sent, "GET /x.csv?key=*** HTTP/1.1")
        http.record(connection: 9, .received, "HTTP/1.1 200 \"OK\" s3cret\r\n")
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            // The time stamp comes first.
            String($0.drop { $0 != " " }.dropFirst())
        }
        #expect(
            lines == [
                #"TRACE trace conn=7 proto=ftp dir=> line="USER bob""#,
                #"TRACE trace conn=7 proto=ftp dir=< line="230 Login successful.""#,
                "TRACE trace conn=8 proto=ftp dir=> line=PWD",
                #"TRACE trace conn=9 proto=http dir=> line="GET /x.csv?key=*** HTTP/1.1""#,
                #"TRACE trace conn=9 proto=http dir=< line="HTTP/1.1 200 'OK' ***??""#,
            ])
    }

    @Test("without --trace: no sink, and TRACE events are not written at all")
    func noTrace() throws {
        let loop = try EventLoop()
        let (log, path) = try Self.traceLog { $0.verbose = true }
        defer { unlink(path) }
        #expect(log.traceSink(protocol: "ftp", loop: loop) == nil)
        log.event(.trace, source: nil, "trace", RunLog.traceFields("ftp", 1, .sent, "NOOP"))
        log.event(.info, source: nil, "run")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!text.contains("TRACE") && text.contains(" INFO run\n"), "\(text)")
    }
}
