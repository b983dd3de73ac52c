import Foundation
@_spi(Internals) import Reactor
@_spi(Internals) import TestSupport
import Testing

/// Polls `condition` every 20 ms for up to `seconds` (a blocking wait: the tests here block on child processes).
private func waitFor(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    for _ in 0..<Int(seconds * 50) {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

/// Sends SIGTERM and says whether the process ended within `seconds` (else it is killed, so the test never hangs).
private func terminate(_ process: Process, endsWithin seconds: Double) -> Bool {
    process.terminate()
    let ended = waitFor(seconds) { !process.isRunning }
    if !ended { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    return ended
}

@Suite("Cancelling a run")
struct CancelTests {
    @Test("SIGTERM while every source waits on its back-off: the run ends at once, each source failed, exit 143")
    func duringBackoff() async throws {
        try TestEnv.require(.vsftpd)
        let scenario = try Scenario("cancel-backoff")
        let (thread, port) = try await scriptedServer { _, _ in
            [.send("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 30\r\nContent-Length: 0\r\n\r\n")]
        }
        defer { thread.shutdown() }
        try scenario.writeConfig(
            """
            {"a": {"URL": "http://127.0.0.1:\(port)/a.csv"}, "b": {"URL": "http://127.0.0.1:\(port)/b.csv"}}
            """)
        let process = try scenario.start(["manual", "parallel"])
        let waiting = waitFor(10) {
            scenario.log.components(separatedBy: "retry delay=30000ms").count == 3
        }
        #expect(waiting, "both sources did not reach their back-off: \(scenario.log)")
        #expect(terminate(process, endsWithin: 5), "the run did not end: \(scenario.log)")
        #expect(process.terminationStatus == 143)
        #expect(scenario.log.contains("summary sources=2 succeeded=0 failed=2"), "\(scenario.log)")
        #expect(scenario.log.components(separatedBy: "reason=\"interrupted by SIGTERM\"").count == 5)
    }

    @Test("SIGTERM during --dry-run: the sources not probed yet fail at once instead of being probed, exit 143")
    func duringDryRun() async throws {
        try TestEnv.require(.vsftpd)
        let scenario = try Scenario("cancel-dryrun")
        let (thread, port) = try await scriptedServer { _, _ in
            [
                .pause(milliseconds: 1_500),
                .send("HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: 2\r\n\r\na\n"),
            ]
        }
        defer { thread.shutdown() }
        let sources = (1...4).map { "\"s\($0)\": {\"URL\": \"http://127.0.0.1:\(port)/\($0).csv\"}" }
        try scenario.writeConfig("{" + sources.joined(separator: ", ") + "}")
        let process = try scenario.start(["manual", "sequential", "--dry-run"])
        #expect(waitFor(10) { scenario.log.contains(" ftp_login ") }, "\(scenario.log)")
        // While the first probe waits for its head.
        #expect(terminate(process, endsWithin: 3.5), "the dry run went on probing: \(scenario.log)")
        #expect(process.terminationStatus == 143)
        #expect(scenario.log.contains("reason=\"interrupted by SIGTERM\""), "\(scenario.log)")
    }
}
