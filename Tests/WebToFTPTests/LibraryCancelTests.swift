import Foundation
@_spi(Internals) import Reactor
@_spi(Internals) import TestSupport
import Testing
@_spi(Internals) import WebToFTP

@Suite("Cancelling the task awaiting Web2FTP.run")
struct LibraryCancelTests {
    @Test("a stalled source: the run returns its summary within 10 s, the source failed class=interrupted")
    func stalledSource() async throws {
        try TestEnv.require(.vsftpd)
        let scenario = try Scenario("lib-cancel")
        // Headers, then nothing for a minute: without the cancel the run would wait for the idle timeout.
        let (thread, port) = try await scriptedServer { _, _ in
            [
                .send("HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: 100\r\n\r\nid\n"),
                .pause(milliseconds: 60_000),
            ]
        }
        defer { thread.shutdown() }
        let (sources, ftp, options) = try scenario.libraryRun(
            "{\"stall\": {\"URL\": \"http://127.0.0.1:\(port)/s.csv\", \"TIMEOUT\": 120}}")
        let logPath = scenario.directory + "/lib.log"
        let run = Task { [options] in
            try await Web2FTP.run(sources: sources, ftp: ftp, options: options, logPath: logPath)
        }
        var attempting = false
        for _ in 0..<250 where !attempting {
            try await Task.sleep(for: .milliseconds(20))
            attempting = ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").contains("attempt 1/")
        }
        #expect(attempting, "the source never started")
        try await Task.sleep(for: .milliseconds(300))
        let cancelled = ContinuousClock.now
        run.cancel()
        let summary = try await run.value
        #expect(ContinuousClock.now - cancelled < .seconds(10))
        #expect(summary.failed.count == 1 && summary.succeeded.isEmpty)
        guard case .failure(let failure) = summary.failed.first?.result else { return }
        #expect(failure.interrupted && failure.failureClass == "interrupted")
        #expect(summary.json.contains("\"class\":\"interrupted\""))
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        #expect(log.contains("WARN interrupted by=task_cancellation"), "\(log)")
        #expect(log.contains("[stall] failed class=interrupted"), "\(log)")
    }

    @Test("a task cancelled before the run starts: it returns at once, nothing published")
    func cancelledBeforeStart() async throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
        let scenario = try Scenario("lib-cancel-early")
        let (sources, ftp, options) = try scenario.libraryRun("{\"early\": {\"URL\": \"\(http)/small.csv\"}}")
        let logPath = scenario.directory + "/lib.log"
        let run = Task { [options] in
            withUnsafeCurrentTask { $0?.cancel() }
            return try await Web2FTP.run(sources: sources, ftp: ftp, options: options, logPath: logPath)
        }
        let summary = try await run.value
        #expect(summary.failed.count == 1)
        #expect(scenario.published("early.csv") == nil)
    }
}
